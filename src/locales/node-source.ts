// Reads src/locales/ from disk (Node only: the build and tests).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeAreas, formatMessage, type LocaleSources, type MessageFile } from './catalog';

export const LOCALES_DIR = dirname(fileURLToPath(import.meta.url));

export function readLocaleSources(dir = LOCALES_DIR): LocaleSources {
  const sources: LocaleSources = {};
  for (const lang of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
    sources[lang] = {};
    for (const file of readdirSync(join(dir, lang)).filter((f) => f.endsWith('.json'))) {
      sources[lang][file.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(dir, lang, file), 'utf8')) as MessageFile;
    }
  }
  return sources;
}

/** An `i18n`-shaped source over one language's files, for Node tests and the CLI. */
export function nodeMessageSource(lang = 'en', dir = LOCALES_DIR) {
  const messages = mergeAreas(lang, readLocaleSources(dir)[lang]);
  return {
    getMessage: (key: string, substitutions?: string[]) => (key === '@@ui_locale' ? lang : formatMessage(messages[key], substitutions)),
    getUILanguage: () => lang,
  };
}
