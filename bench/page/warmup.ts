// npx tsx bench/page/warmup.ts [--rounds N] [--model s0|s1|s2|b]
//
// The first runs of a freshly opened vision session in bare onnxruntime-web (the page baseline's
// page, same threads as the extension), for choosing how the engine warms up and how large its
// first batch is. Each plan runs in a fresh cross-origin-isolated tab: session creation, then a
// sequence of runs; a warm-up is a run whose rows nobody uses. Reported per plan: the session
// opening, each run, and how long after the session opened the first 4, 8 and 12 real images
// were embedded. Plans take turns in every round (their order reversed every other round) so
// that load swings spread over all of them. Needs the page benchmark's cache (run bench:page once).
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from '../../e2e/browsers.ts';
import { ARCHMODELS_DIR } from '../../scripts/archmodels.ts';
import { existsSync } from 'node:fs';
import { imagePath } from './images.ts';
import { BENCH_CACHE, prepareModel, REPLICAS, type ReplicaName } from './model.ts';
import { startBenchServer } from './server.ts';

interface BareModule {
  open(a: { model: string; threads: number }): Promise<{ openMs: number; crossOriginIsolated: boolean; threads: number }>;
  load(a: { url: string; size: number; count: number }): Promise<void>;
  run(a: { size: number; count: number; batch: number }): Promise<number>;
}

/** A plan: the batch sizes run in order after the session opens; `warm` ones produce nothing. */
interface Plan {
  name: string;
  runs: { n: number; warm?: boolean }[];
}

const PLANS: Plan[] = [
  { name: 'warm-up 1, then 8 8', runs: [{ n: 1, warm: true }, { n: 8 }, { n: 8 }] },
  { name: 'warm-up 8, then 8 8', runs: [{ n: 8, warm: true }, { n: 8 }, { n: 8 }] },
  { name: 'no warm-up: 8 8', runs: [{ n: 8 }, { n: 8 }] },
  { name: 'no warm-up: 4 8', runs: [{ n: 4 }, { n: 8 }] },
  { name: 'no warm-up: 4 4 8', runs: [{ n: 4 }, { n: 4 }, { n: 8 }] },
  { name: 'no warm-up: 2 8 8', runs: [{ n: 2 }, { n: 8 }, { n: 8 }] },
];

const median = (xs: number[]) => {
  const s = xs.toSorted((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let rounds = 3;
  let name: ReplicaName = 's0';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else if (argv[i] === '--model' && argv[i + 1] in REPLICAS) name = argv[++i] as ReplicaName;
    else throw new Error(`usage: npx tsx bench/page/warmup.ts [--rounds N] [--model ${Object.keys(REPLICAS).join('|')}]`);
  }
  const log = (line: string) => console.error(line);
  const model = await prepareModel(name, log);
  const cache = join(BENCH_CACHE, 'images');
  const server = await startBenchServer({ cache, hfDir: model.hfDir, repo: model.spec.repo, arch: ARCHMODELS_DIR });
  const size = model.spec.imageSize;
  const threads = Math.min(cpus().length, 4);
  const load = [loadavg()[0]];
  let browser: Browser | undefined;
  const results = new Map<string, { openMs: number[]; runs: number[][]; after: Record<number, number[]> }>();
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
    const open = async (path: string) => {
      const page = await browser!.newPage();
      await page.goto(`${server.origin}${path}`);
      return page;
    };
    const modelUrl = `${server.origin}/${model.spec.repo}/resolve/main/onnx/vision_model.onnx`;
    if (!existsSync(join(cache, 'page-0', `pre-${size}.rgb`))) throw new Error(`no preprocessed pictures in ${cache}/page-0: run npm run bench:page once`);
    const pixelsUrl = `${server.origin}${imagePath(0, `pre-${size}.rgb`)}`;
    for (let round = 0; round < rounds; round++) {
      for (const plan of round % 2 ? PLANS.toReversed() : PLANS) {
        const tab = await open('/bare.html');
        try {
          const bare = <T>(fn: keyof BareModule, a: unknown) => tab.evaluate(async ([f, arg]) => ((await import('/bare.js' as string)) as Record<string, (x: unknown) => Promise<unknown>>)[f](arg), [fn, a] as const) as Promise<T>;
          await bare('load', { url: pixelsUrl, size, count: 8 });
          const opened = await bare<{ openMs: number; crossOriginIsolated: boolean }>('open', { model: modelUrl, threads });
          if (!opened.crossOriginIsolated) throw new Error('the page is not cross-origin isolated');
          const runMs: number[] = [];
          for (const run of plan.runs) runMs.push(await bare<number>('run', { size, count: run.n, batch: run.n }));
          const r = results.get(plan.name) ?? { openMs: [], runs: [], after: { 4: [], 8: [], 12: [] } };
          r.openMs.push(opened.openMs);
          r.runs.push(runMs);
          for (const want of [4, 8, 12]) {
            let done = 0;
            let ms = 0;
            for (const [i, run] of plan.runs.entries()) {
              ms += runMs[i];
              if (!run.warm) done += run.n;
              if (done >= want) break;
            }
            if (done >= want) r.after[want].push(ms);
          }
          results.set(plan.name, r);
        } finally {
          await tab.close();
        }
      }
      log(`round ${round + 1}/${rounds} done`);
    }
  } finally {
    await browser?.close();
    await server.close();
  }
  load.push(loadavg()[0]);
  console.log(`\n${model.spec.label} replica, bare onnxruntime-web, ${threads} threads, ${rounds} rounds; load average ${load.map((l) => l.toFixed(1)).join(' → ')}; medians in ms\n`);
  console.log(['plan'.padEnd(24), 'open', 'runs'.padEnd(26), '4 real', '8 real', '12 real'].join('  '));
  for (const plan of PLANS) {
    const r = results.get(plan.name)!;
    const runs = plan.runs.map((run, i) => `${run.warm ? 'w' : ''}${run.n}:${median(r.runs.map((x) => x[i])).toFixed(0)}`).join(' ');
    const after = (n: number) => (r.after[n].length ? median(r.after[n]).toFixed(0) : '–');
    console.log([plan.name.padEnd(24), median(r.openMs).toFixed(0).padStart(4), runs.padEnd(26), after(4).padStart(6), after(8).padStart(6), after(12).padStart(7)].join('  '));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
