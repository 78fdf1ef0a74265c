// The labels the options page accepts are the ones "Classify image" can send: the same bounds as
// the message validator (messages.ts), checked before saving and said in words.
import { MAX_LABEL_LENGTH, MAX_LABELS } from '../messages';

/** The labels of the textarea (one per line, blanks dropped), or why they cannot be used. */
export function parseLabels(text: string): { labels: string[]; problem: string | null } {
  const labels = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (labels.length > MAX_LABELS) return { labels, problem: `At most ${MAX_LABELS.toLocaleString('en')} labels: there are ${labels.length.toLocaleString('en')}.` };
  const long = labels.findIndex((l) => l.length > MAX_LABEL_LENGTH);
  if (long >= 0) return { labels, problem: `Each label can have at most ${MAX_LABEL_LENGTH} characters: label ${long + 1} has ${labels[long].length}.` };
  return { labels, problem: null };
}
