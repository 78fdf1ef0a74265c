// The plain page of vision-lanes.bench.ts: starts the sessions (session.js) and runs the images
// in one of three ways, returning the ms for all of them.
const call = (worker, message) =>
  new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.ok ? resolve(data.ms) : reject(new Error(data.error)));
    worker.postMessage(message);
  });

let workers = [];

/** { sessions, threads, batch, size, model, externalData }: opens the sessions and runs one batch on each (warm-up). */
export async function open(o) {
  workers = Array.from({ length: o.sessions }, () => new Worker('/session.js', { type: 'module' }));
  await Promise.all(workers.map((w) => call(w, { op: 'open', ...o })));
  await Promise.all(workers.map((w) => call(w, { op: 'run', runs: 1, count: o.batch })));
  return { crossOriginIsolated };
}

/**
 * `images` in runs of `batch`:
 *   'one'   one session runs every run;
 *   'split' each run split in equal parts, one per session, the next run once all have ended (as the extension does);
 *   'apart' each session runs its share of the runs on its own, the runs of one never waiting for another's.
 */
export async function run({ mode, images, batch }) {
  const runs = images / batch;
  const t0 = performance.now();
  if (mode === 'one') await call(workers[0], { op: 'run', runs, count: batch });
  else if (mode === 'split') for (let r = 0; r < runs; r++) await Promise.all(workers.map((w) => call(w, { op: 'run', runs: 1, count: batch / workers.length })));
  else await Promise.all(workers.map((w) => call(w, { op: 'run', runs: runs / workers.length, count: batch })));
  return performance.now() - t0;
}
