// The "Done when" goals of issue 12, each evaluated on the samples of one page-benchmark run:
// a limit per sample (a fixed one, or computed from the baselines measured in the same run),
// the measured value, and met when the median over the samples of measured ÷ limit is at most 1.
// Taking the ratio per sample keeps each measurement against its own run's baseline, as the
// table's ratios do; a goal whose baseline was not measured (--extension-only) is not judged.
import { fmtStat, perImage, printColumns, ratio, stat, type Sample, type Stat } from './report.ts';

type Unit = 's' | 'ms' | 'MB';

interface GoalSpec {
  /** The goal as issue 12 words it. */
  goal: string;
  /** How the limit is made. */
  limit: string;
  unit: Unit;
  measured(s: Sample): number | undefined;
  limitOf(s: Sample): number | undefined;
}

export type Verdict = 'met' | 'not met' | 'not measured';

export interface GoalResult {
  goal: string;
  limitRule: string;
  unit: Unit;
  limit?: Stat;
  measured?: Stat;
  /** measured ÷ limit, per sample. */
  ratio?: Stat;
  /** Samples where the measurement failed (NaN: a revisit that never ranked everything, say): never met. */
  failed: number;
  verdict: Verdict;
}

const s = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
const fixed = (value: number) => () => value;
/** The visible images' budget: each costs what one image costs bare onnxruntime-web (N threads) in the same run, plus 300 ms. */
const visibleBudget = (x: Sample) => {
  const bare = perImage(x.bareThreads, x);
  return bare === undefined ? undefined : s(x.extension.visibleImages * bare + 300);
};
const stalls = (x: Sample) => {
  const e = x.extension;
  return Math.max(e.stallFrameStartMs, e.stallTimerStartMs, e.stallFrameIndexingMs, e.stallTimerIndexingMs);
};

const GOALS: GoalSpec[] = [
  {
    goal: 'page indexed within 1.25× pure inference',
    limit: '1.25 × bare ORT N',
    unit: 's',
    measured: (x) => s(x.extension.pageIndexedMs),
    limitOf: (x) => s(x.bareThreads === undefined ? undefined : 1.25 * x.bareThreads),
  },
  {
    goal: 'visible ranked within 12 × per-image + 300 ms, cold engine',
    limit: '12 × bare ORT N / image + 0.3 s',
    unit: 's',
    measured: (x) => s(x.extension.visibleRankedMs),
    limitOf: visibleBudget,
  },
  {
    goal: 'visible ranked within 12 × per-image + 300 ms, warm engine',
    limit: '12 × bare ORT N / image + 0.3 s',
    unit: 's',
    measured: (x) => s(x.extension.warm.visibleRankedMs),
    limitOf: visibleBudget,
  },
  { goal: 'revisit, all cached, under 300 ms', limit: '300 ms', unit: 'ms', measured: (x) => x.extension.revisitMs, limitOf: fixed(300) },
  { goal: 'revisit after a browser restart under 1.5 s', limit: '1.5 s', unit: 's', measured: (x) => s(x.extension.restartRevisitMs), limitOf: fixed(1.5) },
  {
    goal: 'cold start within 1.25× bare session creation',
    limit: '1.25 × bare text session creation',
    unit: 's',
    measured: (x) => s(x.extension.coldStartMs),
    limitOf: (x) => s(x.bareCreation === undefined ? undefined : 1.25 * x.bareCreation.textMs),
  },
  {
    goal: 'at least 1.5× faster end to end than transformers.js',
    limit: 'transformers.js cold ÷ 1.5',
    unit: 's',
    measured: (x) => s(x.extension.pageIndexedMs),
    limitOf: (x) => s(x.transformersCold === undefined ? undefined : x.transformersCold / 1.5),
  },
  { goal: 'peak extension memory under 400 MB', limit: '400 MB PSS', unit: 'MB', measured: (x) => x.extension.peakExtensionPssMB, limitOf: fixed(400) },
  {
    goal: 'no popup stall over 200 ms while indexing',
    limit: '200 ms, frame gap or timer lag',
    unit: 'ms',
    measured: (x) => stalls(x),
    limitOf: fixed(200),
  },
];

const defined = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined && Number.isFinite(x));

export function evaluateGoals(samples: Sample[]): GoalResult[] {
  return GOALS.map((g) => {
    const judged = samples.filter((x) => g.limitOf(x) !== undefined);
    const failed = judged.filter((x) => !Number.isFinite(g.measured(x) ?? NaN)).length;
    const ratios = stat(defined(judged.map((x) => ratio(g.measured(x), g.limitOf(x)))));
    const verdict: Verdict = judged.length === 0 ? 'not measured' : failed > 0 || !ratios || ratios.median > 1 ? 'not met' : 'met';
    return {
      goal: g.goal,
      limitRule: g.limit,
      unit: g.unit,
      limit: stat(defined(judged.map(g.limitOf))),
      measured: stat(defined(samples.map(g.measured))),
      ratio: ratios,
      failed,
      verdict,
    };
  });
}

export function printGoals(goals: GoalResult[]): void {
  const cell = (x: Stat | undefined, unit: string) => {
    if (!x) return '–';
    const { median, range } = fmtStat(x, unit);
    return x.n > 1 ? `${median} (${range})` : median;
  };
  console.log('\nGoals of issue 12 ("Done when"): median (range) over the samples; met when the median of measured ÷ limit is ≤ 1\n');
  printColumns(
    [
      ['goal', 'limit from', 'unit', 'limit', 'measured', 'measured ÷ limit', 'verdict'],
      ...goals.map((g) => [g.goal, g.limitRule, g.unit, cell(g.limit, g.unit), cell(g.measured, g.unit), cell(g.ratio, '×'), g.failed ? `${g.verdict} (${g.failed} failed)` : g.verdict]),
    ],
    3,
  );
}
