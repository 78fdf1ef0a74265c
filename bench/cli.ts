// Small helpers the benchmarks share: their numeric options, and other processes kept busy beside them.
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
