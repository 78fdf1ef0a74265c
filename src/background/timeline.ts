// The first steps of indexing as marks on this context's performance timeline (`lens:<step>`),
// where DevTools' Performance panel shows them and bench:page reads them to see where the first
// seconds after a popup opens go (model load, images prepared, inference runs). Marks live as
// long as the worker, so only the first MAX_MARKS of its lifetime are made: the start-up is what
// they are for.

export type TimelineStep =
  | 'popup-opened'
  | 'model-requested'
  | 'engine-step'
  | 'engine-ready'
  | 'image-claimed'
  | 'image-fetched'
  | 'image-prepared'
  | 'image-embedded'
  | 'batch-start'
  | 'batch-end';

const MAX_MARKS = 1000;
let made = 0;

export function mark(step: TimelineStep, detail?: Record<string, number | string>): void {
  if (made >= MAX_MARKS || typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  made++;
  performance.mark(`lens:${step}`, detail ? { detail } : undefined);
}
