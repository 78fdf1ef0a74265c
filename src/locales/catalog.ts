// The message files as the browser gets them: src/locales/<lang>/<area>.json merged into one
// `_locales/<lang>/messages.json` per language, with `$1`-style substitutions turned into named
// placeholders (the form both Chrome and Firefox document). Pure data handling: the build
// (scripts/locales.ts) and Node tests (testing.ts) share it.

export interface MessageEntry {
  message: string;
  description?: string;
  placeholders?: Record<string, { content: string; example?: string }>;
}
export type MessageFile = Record<string, MessageEntry>;
/** area file name (without .json) → its messages, per language. */
export type LocaleSources = Record<string, Record<string, MessageFile>>;

export const DEFAULT_LOCALE = 'en';
const KEY = /^[A-Za-z0-9_]+$/;

/** Merges one language's area files; a key defined twice or malformed is an error. */
export function mergeAreas(lang: string, areas: Record<string, MessageFile>): MessageFile {
  const merged: MessageFile = {};
  const origin = new Map<string, string>();
  for (const [area, file] of Object.entries(areas)) {
    for (const [key, entry] of Object.entries(file)) {
      if (!KEY.test(key)) throw new Error(`${lang}/${area}.json: key "${key}" may hold only letters, digits and _`);
      if (origin.has(key)) throw new Error(`${lang}: key "${key}" is defined in ${origin.get(key)}.json and ${area}.json`);
      if (typeof entry?.message !== 'string' || entry.message.trim() === '') throw new Error(`${lang}/${area}.json: "${key}" has no message`);
      origin.set(key, area);
      merged[key] = toPlaceholders(entry);
    }
  }
  return merged;
}

/** Highest `$N` a message uses (0 when none). */
export function substitutionCount(message: string): number {
  let max = 0;
  for (const m of message.matchAll(/\$(\$|[1-9])/g)) if (m[1] !== '$') max = Math.max(max, Number(m[1]));
  return max;
}

function toPlaceholders(entry: MessageEntry): MessageEntry {
  const count = substitutionCount(entry.message);
  if (count === 0 || entry.placeholders) return entry;
  const placeholders: NonNullable<MessageEntry['placeholders']> = {};
  for (let i = 1; i <= count; i++) placeholders[`p${i}`] = { content: `$${i}` };
  return { ...entry, message: entry.message.replace(/\$(\$|[1-9])/g, (whole, d: string) => (d === '$' ? whole : `$p${d}$`)), placeholders };
}

/**
 * Every language has exactly the default language's keys, uses the same substitutions, and
 * plural keys come in `_one` / `_other` pairs. Returns the problems found (empty when sound).
 */
export function checkLocales(sources: LocaleSources): string[] {
  const problems: string[] = [];
  const merged: Record<string, MessageFile> = {};
  for (const [lang, areas] of Object.entries(sources)) {
    try {
      merged[lang] = mergeAreas(lang, areas);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const base = merged[DEFAULT_LOCALE];
  if (!base) return [...problems, `no ${DEFAULT_LOCALE} messages`];
  for (const key of Object.keys(base)) {
    if (key.endsWith('_one') && !(key.replace(/_one$/, '_other') in base)) problems.push(`${key} has no _other form`);
  }
  for (const [lang, messages] of Object.entries(merged)) {
    if (lang === DEFAULT_LOCALE) continue;
    for (const key of Object.keys(base)) {
      if (!(key in messages)) problems.push(`${lang}: "${key}" missing`);
      else if (substitutionCount(raw(sources, lang, key)) !== substitutionCount(raw(sources, DEFAULT_LOCALE, key))) {
        problems.push(`${lang}: "${key}" uses other substitutions than ${DEFAULT_LOCALE}`);
      }
    }
    for (const key of Object.keys(messages)) if (!(key in base)) problems.push(`${lang}: "${key}" is not in ${DEFAULT_LOCALE}`);
  }
  return problems;
}

function raw(sources: LocaleSources, lang: string, key: string): string {
  for (const file of Object.values(sources[lang] ?? {})) if (key in file) return file[key].message;
  return '';
}

/** What `i18n.getMessage` returns for a merged entry (named and `$N` placeholders, `$$` → `$`). */
export function formatMessage(entry: MessageEntry | undefined, substitutions: string[] = []): string {
  if (!entry) return '';
  const named = entry.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (whole, name: string) => {
    const p = entry.placeholders?.[name] ?? entry.placeholders?.[name.toLowerCase()];
    return p ? p.content : whole;
  });
  return named.replace(/\$(\$|[1-9])/g, (_, d: string) => (d === '$' ? '$' : substitutions[Number(d) - 1] ?? ''));
}
