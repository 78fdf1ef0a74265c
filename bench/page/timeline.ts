// Where the first seconds after the popup opens go: the service worker marks the first steps of
// indexing on its performance timeline (src/background/timeline.ts, `lens:<step>`); this reads
// them through the DevTools protocol and puts them on the popup's clock.

/** Runs in the service worker. */
const READ_MARKS = () => ({
  now: performance.now(),
  marks: performance
    .getEntriesByType('mark')
    .filter((m) => m.name.startsWith('lens:'))
    .map((m) => ({ step: m.name.slice('lens:'.length), t: m.startTime, detail: (m as PerformanceMark).detail as Record<string, unknown> | null })),
});

export interface TimelineMark {
  step: string;
  /** ms since the popup opened. */
  ms: number;
  url?: string;
  run?: number;
  size?: number;
  /** The engine's start-up step (`engine-step` marks). */
  name?: string;
}

/** ms since the popup opened of the start-up steps; NaN for a step not seen (or a worker restarted meanwhile). */
export interface StartupTimes {
  modelRequestedMs: number;
  /** The engine answers (text tower open: the vision tower opens with the first images). */
  engineReadyMs: number;
  firstFetchedMs: number;
  firstPreparedMs: number;
  /** Images decoded and waiting before the engine was ready. */
  preparedBeforeReady: number;
  firstRunStartMs: number;
  firstRunEndMs: number;
  firstRunSize: number;
  secondRunEndMs: number;
  /** How many inference runs it took until every first-viewport image was embedded. */
  runsForVisible: number;
}

interface Evaluates {
  evaluate<R>(fn: () => R): Promise<R>;
}

/** The worker's marks on the clock of `openedAt` (Node's performance.now() when the popup opened). */
export async function readTimeline(worker: Evaluates, openedAt: number): Promise<TimelineMark[]> {
  const before = performance.now();
  const { now, marks } = await worker.evaluate(READ_MARKS);
  // The worker's `now` was taken somewhere between the two Node readings.
  const offset = (before + performance.now()) / 2 - now - openedAt;
  return marks.map(({ step, t, detail }) => ({
    step,
    ms: t + offset,
    ...(typeof detail?.url === 'string' ? { url: detail.url } : {}),
    ...(typeof detail?.run === 'number' ? { run: detail.run } : {}),
    ...(typeof detail?.size === 'number' ? { size: detail.size } : {}),
    ...(typeof detail?.name === 'string' ? { name: detail.name } : {}),
  }));
}

export function startupTimes(marks: TimelineMark[], visible: string[]): StartupTimes {
  const first = (step: string, run?: number) => marks.find((m) => m.step === step && (run === undefined || m.run === run));
  const at = (m: TimelineMark | undefined) => m?.ms ?? NaN;
  const ready = at(first('engine-ready'));
  const embedded = new Map(marks.filter((m) => m.step === 'image-embedded' && m.url).map((m) => [m.url!, m.run ?? NaN]));
  const visibleRuns = visible.map((url) => embedded.get(url));
  return {
    modelRequestedMs: at(first('model-requested')),
    engineReadyMs: ready,
    firstFetchedMs: at(first('image-fetched')),
    firstPreparedMs: at(first('image-prepared')),
    preparedBeforeReady: marks.filter((m) => m.step === 'image-prepared' && m.ms < ready).length,
    firstRunStartMs: at(first('batch-start', 0)),
    firstRunEndMs: at(first('batch-end', 0)),
    firstRunSize: first('batch-start', 0)?.size ?? NaN,
    secondRunEndMs: at(first('batch-end', 1)),
    runsForVisible: visibleRuns.some((r) => r === undefined) ? NaN : 1 + Math.max(...(visibleRuns as number[])),
  };
}

/**
 * When the engine started, ms on the popup's clock: the model's request if it came before the
 * popup opened (the page's images asked for it), else the popup's opening (0).
 */
export function engineStartMs(startup: Pick<StartupTimes, 'modelRequestedMs'>): number {
  return Number.isFinite(startup.modelRequestedMs) ? Math.min(0, startup.modelRequestedMs) : 0;
}
