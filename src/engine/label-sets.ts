// Label sets for zero-shot classification: named lists of labels, each with the prompt templates
// whose mean embedding stands for a label (see meanEmbedding). Two sets are built in; people add
// their own in the options page, and move them between browsers as text or JSON.
import { COLOUR_LABELS, EVERYDAY_LABELS, PROMPT_TEMPLATES } from './labels';
import { IMAGENET_CLASSES, IMAGENET_TEMPLATES } from './imagenet-classes';
import type { ModelSpec } from './types';

export interface LabelSet {
  /** Stable name for settings and caches: built-in ids are fixed, user ids start with "user-". */
  id: string;
  name: string;
  labels: string[];
  /** Each contains "{}", replaced by the label. */
  templates: string[];
  builtIn: boolean;
}

export const EVERYDAY_SET_ID = 'everyday';
export const IMAGENET_SET_ID = 'imagenet-1k';
export const MAX_SET_LABELS = 2_000;
export const MAX_SET_TEMPLATES = 80;
const MAX_NAME = 80;
/** The message validator's bound (MAX_LABEL_LENGTH in messages.ts; label-limits.test.ts keeps them equal). */
export const MAX_LABEL = 200;
const MAX_TEMPLATE = 200;

/** Names of the built-in sets, for lists that do not need their labels. */
export const BUILT_IN_SETS: readonly { id: string; name: string }[] = [
  { id: EVERYDAY_SET_ID, name: 'Everyday' },
  { id: IMAGENET_SET_ID, name: 'ImageNet-1k' },
];

/** The built-in sets; the fixture model (colours only) gets colour labels as its everyday set. */
export function builtInLabelSets(spec: ModelSpec): LabelSet[] {
  return [
    { ...BUILT_IN_SETS[0], labels: [...(spec.testOnly ? COLOUR_LABELS : EVERYDAY_LABELS)], templates: [...PROMPT_TEMPLATES], builtIn: true },
    { ...BUILT_IN_SETS[1], labels: [...IMAGENET_CLASSES], templates: [...IMAGENET_TEMPLATES], builtIn: true },
  ];
}

export function setPrompts(set: Pick<LabelSet, 'templates'>, label: string): string[] {
  return set.templates.map((t) => t.replaceAll('{}', label));
}

/** A well-formed user set from anything (storage written by an older version, an imported file), or null. */
export function sanitizeLabelSet(raw: unknown): LabelSet | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const name = typeof r.name === 'string' ? r.name.trim().slice(0, MAX_NAME) : '';
  const labels = cleanList(r.labels, MAX_LABEL, MAX_SET_LABELS);
  const templates = cleanList(r.templates, MAX_TEMPLATE, MAX_SET_TEMPLATES).filter((t) => t.includes('{}'));
  if (!name || labels.length === 0) return null;
  const id = typeof r.id === 'string' && /^user-[\w-]{1,60}$/.test(r.id) ? r.id : newUserSetId();
  return { id, name, labels, templates: templates.length > 0 ? templates : [...PROMPT_TEMPLATES], builtIn: false };
}

function cleanList(v: unknown, maxLength: number, maxCount: number): string[] {
  if (!Array.isArray(v)) return [];
  const seen = new Set<string>();
  for (const item of v) {
    if (typeof item !== 'string') continue;
    const s = item.trim();
    if (s && s.length <= maxLength) seen.add(s);
    if (seen.size >= maxCount) break;
  }
  return [...seen];
}

export function newUserSetId(): string {
  return `user-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

// ---------------------------------------------------------------- text and JSON forms

/**
 * The text form: a "# name:" line, "# template:" lines, then one label per line. Blank lines
 * and other "#" lines are ignored, so a plain list of labels is a valid file too.
 */
export function labelSetToText(set: LabelSet): string {
  return [`# name: ${set.name}`, ...set.templates.map((t) => `# template: ${t}`), ...set.labels].join('\n') + '\n';
}

export function parseLabelSetText(text: string, fallbackName: string): LabelSet | null {
  let name = fallbackName;
  const templates: string[] = [];
  const labels: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const meta = /^#\s*(name|template)\s*:\s*(.*)$/i.exec(line);
    if (meta) {
      if (meta[1].toLowerCase() === 'name') name = meta[2];
      else templates.push(meta[2]);
    } else if (line && !line.startsWith('#')) labels.push(line);
  }
  return sanitizeLabelSet({ name, templates, labels });
}

export function labelSetsToJson(sets: LabelSet[]): string {
  return JSON.stringify({ labelSets: sets.map(({ name, labels, templates }) => ({ name, labels, templates })) }, null, 2);
}

/** Sets from a JSON export (an object with labelSets, an array of sets, or one set); fresh ids, so importing twice adds copies. */
export function parseLabelSetsJson(text: string): LabelSet[] {
  const data: unknown = JSON.parse(text);
  const list = Array.isArray(data) ? data : typeof data === 'object' && data !== null && 'labelSets' in data ? (data as { labelSets: unknown }).labelSets : [data];
  if (!Array.isArray(list)) return [];
  return list.map((s) => sanitizeLabelSet({ ...(typeof s === 'object' ? s : {}), id: undefined })).filter((s): s is LabelSet => s !== null);
}

/** JSON when the text looks like it, else the text form. */
export function parseLabelSetFile(text: string, fallbackName: string): LabelSet[] {
  if (/^\s*[[{]/.test(text)) return parseLabelSetsJson(text);
  const set = parseLabelSetText(text, fallbackName);
  return set ? [set] : [];
}
