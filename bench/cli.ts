// Small helpers the benchmarks share: their numeric options, other processes kept busy beside
// them, and the spread of a column of figures.
import { spawn, type ChildProcess } from 'node:child_process';

/** `--name N` from the command line, or `fallback`. */
export function numberOption(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** K processes, each spinning on the CPU `percent` % of every 20 ms, until stopped. */
export function busyLoad(k: number, percent: number): { stop(): void } {
  const spin = (20 * percent) / 100;
  // Each period also checks that the bench still runs: a killed bench must not leave them spinning.
  const script = `const cell = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      if (process.ppid !== ${process.pid}) process.exit();
      const end = performance.now() + ${spin}; while (performance.now() < end);
      if (${20 - spin} > 0) Atomics.wait(cell, 0, 0, ${20 - spin});
    }`;
  const children: ChildProcess[] = Array.from({ length: k }, () => spawn(process.execPath, ['-e', script], { stdio: 'ignore' }));
  return { stop: () => children.forEach((c) => c.kill()) };
}

/** Median, 90th percentile, largest and sum of a column of timings (NaN left out). */
export function spread(xs: number[]): { median: number; p90: number; max: number; sum: number } {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return { median: NaN, p90: NaN, max: NaN, sum: NaN };
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, p90: s[Math.floor(s.length * 0.9)], max: s[s.length - 1], sum: s.reduce((a, b) => a + b, 0) };
}

/** "median (min–max)" of a column of figures, as the bench tables print them. */
export function medianRange(xs: number[], digits = 1): string {
  return `${spread(xs).median.toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}
