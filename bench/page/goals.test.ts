import { describe, expect, it } from 'vitest';
import type { ExtensionRun } from './extension.ts';
import { evaluateGoals, type GoalResult } from './goals.ts';
import type { Sample } from './report.ts';

/** A sample whose every goal is met by a wide margin, with `over` replacing some of it. */
function sample(over: { extension?: Partial<ExtensionRun>; warm?: Partial<ExtensionRun['warm']> } & Omit<Partial<Sample>, 'extension'> = {}): Sample {
  const { extension, warm, ...rest } = over;
  const run = {
    images: 100,
    visibleImages: 12,
    pageIndexedMs: 10_000,
    visibleRankedMs: 1_000,
    coldStartMs: 1_000,
    revisitMs: 100,
    restartRevisitMs: 500,
    peakExtensionPssMB: 300,
    stallFrameStartMs: 0,
    stallTimerStartMs: 0,
    stallFrameIndexingMs: 0,
    stallTimerIndexingMs: 0,
    ...extension,
    warm: { firstResultsMs: 500, visibleRankedMs: 900, pageIndexedMs: 9_000, page: 1, images: 100, failed: 0, ...warm },
  } as ExtensionRun;
  return {
    run: 0,
    page: 0,
    extension: run,
    bareThreads: 10_000,
    transformersCold: 30_000,
    bareCreation: { textMs: 1_000, bothMs: 2_000 },
    ...rest,
  };
}

const goal = (goals: GoalResult[], start: string) => {
  const found = goals.find((g) => g.goal.startsWith(start));
  if (!found) throw new Error(`no goal starting "${start}"`);
  return found;
};

describe('evaluateGoals', () => {
  it('meets every goal of a sample well inside its limits', () => {
    expect(evaluateGoals([sample()]).map((g) => g.verdict)).toEqual(Array(9).fill('met'));
  });

  it('takes the page-time limit from the same sample’s bare onnxruntime-web time', () => {
    // 12 s against 1.25 × 10 s is met; against 1.25 × 9 s it is not.
    const met = goal(evaluateGoals([sample({ extension: { pageIndexedMs: 12_000 } })]), 'page indexed');
    const missed = goal(evaluateGoals([sample({ extension: { pageIndexedMs: 12_000 }, bareThreads: 9_000 })]), 'page indexed');
    expect([met.verdict, met.limit?.median]).toEqual(['met', 12.5]);
    expect([missed.verdict, missed.limit?.median]).toEqual(['not met', 11.25]);
  });

  it('judges the median of the per-sample ratios', () => {
    // Ratios to 1.25 × bare: 0.96, 1.04, 0.8: the median is met though one sample is over.
    const samples = [
      sample({ extension: { pageIndexedMs: 12_000 } }),
      sample({ extension: { pageIndexedMs: 13_000 } }),
      sample({ extension: { pageIndexedMs: 10_000 } }),
    ];
    const g = goal(evaluateGoals(samples), 'page indexed');
    expect(g.verdict).toBe('met');
    expect(g.ratio).toMatchObject({ median: 0.96, min: 0.8, max: 1.04, n: 3 });
  });

  it('budgets the visible images at their count × bare per image + 300 ms, cold and warm engine', () => {
    // Bare: 100 ms per image → 12 × 100 + 300 = 1.5 s.
    const goals = evaluateGoals([sample({ extension: { visibleRankedMs: 1_600 }, warm: { visibleRankedMs: 1_400 } })]);
    const cold = goal(goals, 'visible ranked within 12 × per-image + 300 ms, cold');
    const warm = goal(goals, 'visible ranked within 12 × per-image + 300 ms, warm');
    expect([cold.limit?.median, cold.verdict]).toEqual([1.5, 'not met']);
    expect([warm.limit?.median, warm.verdict]).toEqual([1.5, 'met']);
  });

  it('compares the cold start with bare creation of the text session', () => {
    const g = goal(evaluateGoals([sample({ extension: { coldStartMs: 1_300 } })]), 'cold start');
    expect([g.limit?.median, g.verdict]).toEqual([1.25, 'not met']);
  });

  it('needs the extension 1.5× faster than transformers.js from cold', () => {
    const g = goal(evaluateGoals([sample({ extension: { pageIndexedMs: 12_000 }, transformersCold: 15_000 })]), 'at least 1.5×');
    expect([g.limit?.median, g.verdict]).toEqual([10, 'not met']);
  });

  it('counts the longest popup stall, from the engine start on', () => {
    const g = goal(evaluateGoals([sample({ extension: { stallTimerStartMs: 250 } })]), 'no popup stall');
    expect([g.measured?.median, g.verdict]).toEqual([250, 'not met']);
  });

  it('does not judge a goal whose baseline was not measured', () => {
    const goals = evaluateGoals([sample({ bareThreads: undefined, transformersCold: undefined, bareCreation: undefined })]);
    expect(goal(goals, 'page indexed').verdict).toBe('not measured');
    expect(goal(goals, 'cold start').verdict).toBe('not measured');
    expect(goal(goals, 'at least 1.5×').verdict).toBe('not measured');
    expect(goal(goals, 'revisit, all cached').verdict).toBe('met');
  });

  it('never meets a goal whose measurement failed in a sample', () => {
    const g = goal(evaluateGoals([sample(), sample({ extension: { revisitMs: NaN } }), sample()]), 'revisit, all cached');
    expect([g.verdict, g.failed, g.measured?.n]).toEqual(['not met', 1, 2]);
  });
});
