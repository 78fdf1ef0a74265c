// Everything the page benchmark knows about the popup's DOM, in one place: the popup is being
// reworked in parallel, and a changed test id should need one edit here, not a hunt.
// The readers run inside the popup page (playwright evaluate), so they take the selectors as an
// argument instead of closing over them.
export { POPUP } from '../../e2e/test-build.ts';

export const SELECTORS = {
  search: '[data-testid=search-input]',
  results: '[data-testid=results]',
  result: '[data-testid=result]',
  progress: '[data-testid=progress]',
  backend: '[data-testid=backend]',
  modelMessage: '[data-testid=model-message]',
  imageCount: '[data-testid=image-count]',
  threads: '#threads',
} as const;
export type Selectors = typeof SELECTORS;

export interface PopupState {
  found: number;
  /** Indexed + failed, as the progress bar counts them. */
  done: number;
  failed: number;
  /** 'wasm' / 'webgpu' once an engine answers, '–' before. */
  backend: string;
  threads: string;
  /** A model message (downloading, starting, error) is showing. */
  modelBusy: boolean;
  modelMessage: string;
  /** Image URLs of the ranked results, best first. */
  results: string[];
}

/** Runs in the popup. */
export const readPopup = (sel: Selectors): PopupState => {
  const q = (s: string) => document.querySelector<HTMLElement>(s);
  const message = q(sel.modelMessage);
  const progress = q(sel.progress);
  return {
    found: Number(q(sel.imageCount)?.textContent ?? 0),
    done: Number(progress?.dataset.done ?? 0),
    failed: Number(/(\d+) failed/.exec(document.body.textContent ?? '')?.[1] ?? 0),
    backend: q(sel.backend)?.textContent ?? '',
    threads: q(sel.threads)?.textContent ?? '',
    modelBusy: !!message && !message.hidden,
    modelMessage: message && !message.hidden ? (message.textContent ?? '') : '',
    results: [...document.querySelectorAll<HTMLElement>(sel.result)].map((el) => el.dataset.src ?? ''),
  };
};

/**
 * Runs in the popup: submits `query` (the form's submit skips the typing debounce) and resolves
 * with the ms until the result list changes (order or scores).
 */
export const timeQuery = async ({ sel, query }: { sel: Selectors; query: string }): Promise<number> => {
  const signature = () => [...document.querySelectorAll<HTMLElement>(sel.result)].map((el) => `${el.dataset.src}:${el.dataset.score}`).join('|');
  const before = signature();
  const input = document.querySelector<HTMLInputElement>(sel.search);
  const list = document.querySelector(sel.results);
  if (!input?.form || !list) throw new Error('popup has no search form or result list');
  input.value = query;
  const t0 = performance.now();
  input.form.requestSubmit();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no new results for "${query}" within 60 s`)), 60_000);
    const observer = new MutationObserver(() => {
      if (signature() === before) return;
      observer.disconnect();
      clearTimeout(timer);
      resolve();
    });
    observer.observe(list, { childList: true, subtree: true, attributes: true });
  });
  return performance.now() - t0;
};

/** Runs in the popup: submits `query` without waiting. */
export const submitQuery = ({ sel, query }: { sel: Selectors; query: string }): boolean => {
  const input = document.querySelector<HTMLInputElement>(sel.search);
  if (!input?.form) return false;
  input.value = query;
  input.form.requestSubmit();
  return true;
};

/**
 * Installed before the popup's own scripts: every gap between animation frames and every lateness
 * of a 50 ms timer above 50 ms, with the popup-clock time it ended, i.e. when and how long the
 * popup's main thread was stuck. A string, so the bundler's helpers never leak into the page.
 */
export const STALL_PROBE = `(() => {
  const probe = { frames: [], timers: [] };
  window.__lensStallProbe = probe;
  let lastFrame = performance.now();
  const frame = (now) => { if (now - lastFrame > 50) probe.frames.push([now, now - lastFrame]); lastFrame = now; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  let due = performance.now() + 50;
  setInterval(() => { const now = performance.now(); if (now - due > 50) probe.timers.push([now, now - due]); due = now + 50; }, 50);
})();`;

export interface Stalls {
  /** Longest frame gap / timer lag that ended before `splitMs` (popup clock) and after it. */
  frameBefore: number;
  frameAfter: number;
  timerBefore: number;
  timerAfter: number;
}

/** tsx (esbuild keepNames) wraps inner functions of the readers above in __name(); the page needs it defined. */
export const NAME_SHIM = 'globalThis.__name ??= (fn) => fn;';

/** Runs in the popup: the probe's longest stalls before and after `splitMs` (0 when none over 50 ms). */
export const readStalls = (splitMs: number): Stalls => {
  const probe = (window as unknown as { __lensStallProbe?: { frames: [number, number][]; timers: [number, number][] } }).__lensStallProbe;
  if (!probe) throw new Error('the stall probe is not installed in the popup');
  const longest = (xs: [number, number][], after: boolean) => Math.max(0, ...xs.filter(([end]) => end > splitMs === after).map(([, gap]) => gap));
  return {
    frameBefore: longest(probe.frames, false),
    frameAfter: longest(probe.frames, true),
    timerBefore: longest(probe.timers, false),
    timerAfter: longest(probe.timers, true),
  };
};
