// Turns the samples of a page-benchmark run into the printed table and the JSON record.
// Every figure is a median with its range over all samples (runs × pages); ratios are taken
// per sample against the baseline measured in the same run, then summarised the same way.
import type { CreationTimes } from './baselines.ts';
import type { ExtensionRun } from './extension.ts';

export interface Sample {
  run: number;
  page: number;
  extension: ExtensionRun;
  /** Total ms for the page's images; undefined when skipped. */
  bareThreads?: number;
  bareOne?: number;
  node?: number;
  transformers?: number;
  /** transformers.js from nothing: loading processor and model, then the first pass over the page. */
  transformersCold?: number;
  /** The engine's sessions created by onnxruntime-web alone, WASM compile included. */
  bareCreation?: CreationTimes;
  /** The same at a later start: Chromium restarted on a profile where they were created and run before. */
  bareCreationLater?: CreationTimes;
}

export interface ClaimSample {
  images: number;
  mci0: number;
  vitb16: number;
}

export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stat(xs: number[]): Stat | undefined {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return { median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, min: v[0], max: v[v.length - 1], n: v.length };
}

interface Row {
  label: string;
  unit: string;
  value: (s: Sample) => number | undefined;
}

export const perImage = (ms: number | undefined, s: Sample) => (ms === undefined ? undefined : ms / s.extension.images);
export const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a / b);

/** The steady state: the images after the first viewport's, from then until the page is indexed. */
const afterVisiblePerImage = (s: Sample) => {
  const rest = s.extension.images - s.extension.visibleImages;
  const ms = s.extension.pageIndexedMs - s.extension.visibleRankedMs;
  // On a small page both can pass in the same poll: nothing to measure then.
  return rest > 0 && ms > 0 ? ms / rest : undefined;
};

const ROWS: Row[] = [
  { label: 'popup open → page indexed', unit: 's', value: (s) => s.extension.pageIndexedMs / 1000 },
  { label: '  per image', unit: 'ms', value: (s) => perImage(s.extension.pageIndexedMs, s) },
  { label: 'popup open → first results', unit: 's', value: (s) => s.extension.firstResultsMs / 1000 },
  { label: 'popup open → 12 visible ranked', unit: 's', value: (s) => s.extension.visibleRankedMs / 1000 },
  { label: 'cold start (engine started → ready, as the popup shows it)', unit: 's', value: (s) => s.extension.coldStartMs / 1000 },
  { label: '  popup open → engine ready (the page may have started it)', unit: 's', value: (s) => s.extension.popupReadyMs / 1000 },
  { label: '  engine ready, as the worker saw it', unit: 's', value: (s) => s.extension.startup.engineReadyMs / 1000 },
  { label: '  first image fetched', unit: 's', value: (s) => s.extension.startup.firstFetchedMs / 1000 },
  { label: '  first image decoded', unit: 's', value: (s) => s.extension.startup.firstPreparedMs / 1000 },
  { label: '  images decoded before engine ready', unit: 'n', value: (s) => s.extension.startup.preparedBeforeReady },
  { label: '  first inference run starts', unit: 's', value: (s) => s.extension.startup.firstRunStartMs / 1000 },
  { label: '  first inference run ends', unit: 's', value: (s) => s.extension.startup.firstRunEndMs / 1000 },
  { label: '  first inference run: images', unit: 'n', value: (s) => s.extension.startup.firstRunSize },
  { label: '  second inference run ends', unit: 's', value: (s) => s.extension.startup.secondRunEndMs / 1000 },
  { label: '  runs until the 12 visible are embedded', unit: 'n', value: (s) => s.extension.startup.runsForVisible },
  { label: 'warm engine, new page: popup open → first results', unit: 's', value: (s) => s.extension.warm.firstResultsMs / 1000 },
  { label: 'warm engine, new page: popup open → 12 visible ranked', unit: 's', value: (s) => s.extension.warm.visibleRankedMs / 1000 },
  { label: 'warm engine, new page: popup open → page indexed', unit: 's', value: (s) => s.extension.warm.pageIndexedMs / 1000 },
  { label: 'revisit, all cached → all ranked', unit: 's', value: (s) => s.extension.revisitMs / 1000 },
  { label: 'after browser restart → all ranked', unit: 's', value: (s) => s.extension.restartRevisitMs / 1000 },
  { label: '  browser restart until worker runs', unit: 's', value: (s) => s.extension.restartLaunchMs / 1000 },
  { label: 'later start: engine started → ready (browser restarted, new query)', unit: 's', value: (s) => s.extension.laterColdStartMs / 1000 },
  { label: 'new query → results', unit: 'ms', value: (s) => s.extension.newQueryMs },
  { label: 'repeated query → results', unit: 'ms', value: (s) => s.extension.repeatQueryMs },
  { label: 'CPU per image (all Chromium processes)', unit: 'ms', value: (s) => s.extension.cpuMsPerImage },
  { label: "  ORT's threads (the N busiest extension workers)", unit: 'ms', value: (s) => s.extension.ortCpuMsPerImage },
  {
    label: "  everything else (fetch, decode, storage, messaging, UI)",
    unit: 'ms',
    value: (s) => (s.extension.ortCpuMsPerImage === undefined ? undefined : s.extension.cpuMsPerImage - s.extension.ortCpuMsPerImage),
  },
  { label: 'peak extension memory (PSS)', unit: 'MB', value: (s) => s.extension.peakExtensionPssMB },
  { label: 'peak extension memory (RSS)', unit: 'MB', value: (s) => s.extension.peakExtensionMB },
  { label: 'peak extension memory (USS)', unit: 'MB', value: (s) => s.extension.peakExtensionUssMB },
  { label: 'service-worker thread CPU per image', unit: 'ms', value: (s) => s.extension.swCpuMsPerImage },
  { label: 'extension worker threads CPU per image', unit: 'ms', value: (s) => s.extension.workerCpuMsPerImage },
  { label: 'service-worker event loop: longest lag', unit: 'ms', value: (s) => s.extension.swLagMaxMs },
  { label: 'service-worker event loop: lags > 50 ms', unit: 'n', value: (s) => s.extension.swLagsOver50 },
  { label: 'popup stall while engine starts: frame gap', unit: 'ms', value: (s) => s.extension.stallFrameStartMs },
  { label: 'popup stall while engine starts: timer lag', unit: 'ms', value: (s) => s.extension.stallTimerStartMs },
  { label: 'popup stall while indexing: frame gap', unit: 'ms', value: (s) => s.extension.stallFrameIndexingMs },
  { label: 'popup stall while indexing: timer lag', unit: 'ms', value: (s) => s.extension.stallTimerIndexingMs },
  { label: 'bare onnxruntime-web, N threads / image', unit: 'ms', value: (s) => perImage(s.bareThreads, s) },
  { label: 'bare onnxruntime-web, 1 thread / image', unit: 'ms', value: (s) => perImage(s.bareOne, s) },
  { label: 'onnxruntime-node, N threads / image', unit: 'ms', value: (s) => perImage(s.node, s) },
  { label: 'transformers.js (URL → embedding) / image', unit: 'ms', value: (s) => perImage(s.transformers, s) },
  { label: 'transformers.js cold: model load + first pass', unit: 's', value: (s) => (s.transformersCold === undefined ? undefined : s.transformersCold / 1000) },
  { label: 'bare creation: text session (incl. WASM compile)', unit: 's', value: (s) => (s.bareCreation ? s.bareCreation.textMs / 1000 : undefined) },
  { label: 'bare creation: text + vision sessions', unit: 's', value: (s) => (s.bareCreation ? s.bareCreation.bothMs / 1000 : undefined) },
  { label: 'bare creation at a later start: text session', unit: 's', value: (s) => (s.bareCreationLater ? s.bareCreationLater.textMs / 1000 : undefined) },
  { label: 'bare creation at a later start: text + vision', unit: 's', value: (s) => (s.bareCreationLater ? s.bareCreationLater.bothMs / 1000 : undefined) },
  { label: 'extension after the visible images / image', unit: 'ms', value: afterVisiblePerImage },
  { label: 'extension page time ÷ bare ORT N threads', unit: '×', value: (s) => ratio(s.extension.pageIndexedMs, s.bareThreads) },
  { label: 'extension page time ÷ bare ORT 1 thread', unit: '×', value: (s) => ratio(s.extension.pageIndexedMs, s.bareOne) },
  { label: 'extension page time ÷ onnxruntime-node', unit: '×', value: (s) => ratio(s.extension.pageIndexedMs, s.node) },
  { label: 'extension page time ÷ transformers.js warm pass', unit: '×', value: (s) => ratio(s.extension.pageIndexedMs, s.transformers) },
  { label: 'cold start ÷ bare text creation', unit: '×', value: (s) => ratio(s.extension.coldStartMs, s.bareCreation?.textMs) },
  { label: 'later start ÷ bare text creation at a later start', unit: '×', value: (s) => ratio(s.extension.laterColdStartMs, s.bareCreationLater?.textMs) },
  { label: 'transformers.js cold ÷ extension page time (both cold)', unit: '×', value: (s) => ratio(s.transformersCold, s.extension.pageIndexedMs) },
  { label: 'transformers.js warm ÷ extension after visible, per image', unit: '×', value: (s) => ratio(perImage(s.transformers, s), afterVisiblePerImage(s)) },
  {
    label: 'share outside inference (est. 1 − bare/extension)',
    unit: '%',
    value: (s) => (s.bareThreads === undefined ? undefined : 100 * (1 - s.bareThreads / s.extension.pageIndexedMs)),
  },
];

const fmt = (x: number, unit: string) => (unit === 's' || unit === '×' ? x.toFixed(2) : x.toFixed(unit === '%' ? 0 : 1));

export function summarise(samples: Sample[], claims: ClaimSample[]): Record<string, Stat & { unit: string }> {
  const out: Record<string, Stat & { unit: string }> = {};
  for (const row of ROWS) {
    const s = stat(samples.map(row.value).filter((x): x is number => x !== undefined));
    if (s) out[row.label.trim()] = { ...s, unit: row.unit };
  }
  const claim = (f: (c: ClaimSample) => number, label: string, unit: string) => {
    const s = stat(claims.map(f));
    if (s) out[label] = { ...s, unit };
  };
  claim((c) => c.mci0 / c.images, 'speed claim: mci0 (S0 image tower) / image', 'ms');
  claim((c) => c.vitb16 / c.images, 'speed claim: vitb16 (ViT-B/16 image tower) / image', 'ms');
  claim((c) => c.vitb16 / c.mci0, 'speed claim: vitb16 ÷ mci0', '×');
  return out;
}

/** A median and its range as the table prints them. */
export const fmtStat = (s: Stat, unit: string) => ({ median: fmt(s.median, unit), range: `${fmt(s.min, unit)} – ${fmt(s.max, unit)}` });

/** Prints rows in padded columns: the first `left` columns left-aligned, the others right-aligned. */
export function printColumns(rows: string[][], left: number): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c >= left ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  '));
}

export function printTable(summary: Record<string, Stat & { unit: string }>, skipped: string[]): void {
  const rows = Object.entries(summary).map(([label, s]) => {
    const { median, range } = fmtStat(s, s.unit);
    return [label, s.unit, median, range, String(s.n)];
  });
  printColumns([['measure', 'unit', 'median', 'range', 'n'], ...rows], 2);
  for (const reason of skipped) console.log(`skipped: ${reason}`);
}
