// Which label set "Classify" uses and the person's own sets, in storage.local (every context
// reads the same). Labels typed in the old single list (settings.labels) become a user set once.
import browser from 'webextension-polyfill';
import { builtInLabelSets, EVERYDAY_SET_ID, sanitizeLabelSet, type LabelSet } from './engine/label-sets';
import type { ModelSpec } from './engine/types';
import { loadSettings } from './settings';

const KEY = 'labelSets';
export const MAX_USER_SETS = 50;

export interface LabelSetChoice {
  /** Id of the set Classify uses (built-in or user). */
  active: string;
  user: LabelSet[];
}

export function sanitizeLabelSetChoice(raw: unknown): LabelSetChoice {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const user = (Array.isArray(r.user) ? r.user : []).map(sanitizeLabelSet).filter((s): s is LabelSet => s !== null).slice(0, MAX_USER_SETS);
  const active = typeof r.active === 'string' ? r.active : EVERYDAY_SET_ID;
  return { active, user };
}

export async function loadLabelSetChoice(): Promise<LabelSetChoice> {
  const stored = await browser.storage.local.get(KEY);
  if (stored[KEY] !== undefined) return sanitizeLabelSetChoice(stored[KEY]);
  const legacy = (await loadSettings()).labels;
  if (legacy.length === 0) return { active: EVERYDAY_SET_ID, user: [] };
  const set = sanitizeLabelSet({ name: 'My labels', labels: legacy })!;
  return { active: set.id, user: [set] };
}

export async function saveLabelSetChoice(choice: LabelSetChoice): Promise<LabelSetChoice> {
  const clean = sanitizeLabelSetChoice(choice);
  await browser.storage.local.set({ [KEY]: clean });
  return clean;
}

/** Every set for this model: built-in first, then the person's. */
export function allLabelSets(spec: ModelSpec, choice: LabelSetChoice): LabelSet[] {
  return [...builtInLabelSets(spec), ...choice.user];
}

/** The set with this id (the active one when absent); the everyday set when the id is gone. */
export function findLabelSet(spec: ModelSpec, choice: LabelSetChoice, id = choice.active): LabelSet {
  const sets = allLabelSets(spec, choice);
  return sets.find((s) => s.id === id) ?? sets[0];
}
