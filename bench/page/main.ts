// npm run bench:page -- [--runs N] [--pages N] [--model s0|s1|s2|b] [--images N] [--claim-images N] [--extension-only]
//
// The extension end to end on generated pages of pictures, against baselines measured in the same
// run on the same pictures and model bytes. Architecture replicas (random weights): speed and
// memory only. See bench/README.md for what each line means.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from '../../e2e/browsers.ts';
import { ARCHMODELS_DIR, ensureArchModels } from '../../scripts/archmodels.ts';
import { bareCreationBaseline, bareCreationLaterBaseline, bareOrtBaseline, nodeBaseline, speedClaim, transformersBaseline, type BaselineJob, type Outcome } from './baselines.ts';
import { measureExtension } from './extension.ts';
import { ensurePages } from './images.ts';
import { BENCH_CACHE, prepareModel, REPLICAS, type ReplicaName } from './model.ts';
import { evaluateGoals, printGoals } from './goals.ts';
import { printTable, summarise, type ClaimSample, type Sample } from './report.ts';
import { startBenchServer } from './server.ts';

const BATCH = 8; // the extension's indexing batch (src/background/indexer.ts)

interface Options {
  runs: number;
  pages: number;
  model: ReplicaName;
  images: number;
  claimImages: number;
  /** Measure the extension alone: no baselines, no speed claim (a quick check while developing). */
  extensionOnly: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 3, pages: 1, model: 's0', images: 100, claimImages: 16, extensionOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const int = (min: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min) throw new Error(`${a} needs an integer >= ${min}`);
      return v;
    };
    if (a === '--runs') o.runs = int(1);
    else if (a === '--pages') o.pages = int(1);
    else if (a === '--images') o.images = int(13);
    else if (a === '--claim-images') o.claimImages = int(1);
    else if (a === '--extension-only') o.extensionOnly = true;
    else if (a === '--model') {
      const m = argv[++i];
      if (!(m in REPLICAS)) throw new Error(`--model must be one of ${Object.keys(REPLICAS).join(', ')}`);
      o.model = m as ReplicaName;
    } else throw new Error(`unknown option ${a}\nusage: npm run bench:page -- [--runs N] [--pages N] [--model ${Object.keys(REPLICAS).join('|')}] [--images N] [--claim-images N] [--extension-only]`);
  }
  return o;
}

const log = (line: string) => console.error(line);
const msOf = (o: Outcome) => ('ms' in o ? o.ms : undefined);

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const load = [loadavg()[0]];
  const model = await prepareModel(o.model, log);
  ensureArchModels(['mci0', 'vitb16']);
  const imagesDir = join(BENCH_CACHE, 'images');
  const server = await startBenchServer({ cache: imagesDir, hfDir: model.hfDir, repo: model.spec.repo, arch: ARCHMODELS_DIR });
  let browser: Browser | undefined;
  const plainBrowser = async () => (browser ??= await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] }));
  const openPage = async (path: string) => {
    const page = await (await plainBrowser()).newPage();
    await page.goto(`${server.origin}${path}`);
    return page;
  };
  const closeBrowser = async () => {
    await browser?.close();
    browser = undefined;
  };
  const samples: Sample[] = [];
  const claims: ClaimSample[] = [];
  const skipped = new Set<string>();
  try {
    // One page more than asked: opened once each cold page is indexed, while the engine runs.
    log(`generating ${o.pages + 1} page(s) of ${o.images} images`);
    const generated = await ensurePages(imagesDir, o.pages + 1, o.images, [...new Set([model.spec.imageSize, 256, 224])], openPage);
    await closeBrowser();
    const pages = generated.slice(0, o.pages);
    const warmPage = generated[o.pages];
    for (let run = 0; run < o.runs; run++) {
      for (const page of pages) {
        log(`run ${run + 1}/${o.runs}, page ${page.index}: extension`);
        // The extension runs alone: no baseline browser is open meanwhile.
        const extension = await measureExtension(model.extensionDir, server.origin, page, warmPage, log);
        const threads = extension.threads ?? cpus().length;
        const job: BaselineJob = { openPage, origin: server.origin, model, cache: imagesDir, page, threads, batch: BATCH };
        const sample: Sample = { run, page: page.index, extension };
        samples.push(sample);
        if (o.extensionOnly) continue;
        log(`  baselines (${threads} threads, batch ${BATCH})`);
        const baselines: (() => Promise<void>)[] = [
          async () => void (sample.bareThreads = msOf(await bareOrtBaseline(job, threads))),
          async () => void (sample.bareOne = msOf(await bareOrtBaseline(job, 1))),
          async () => void (sample.node = msOf(await nodeBaseline(job))),
          async () => void (sample.bareCreation = await bareCreationBaseline(job)),
          async () => void (sample.bareCreationLater = await bareCreationLaterBaseline(job)),
          async () => {
            const tf = await transformersBaseline(job);
            if ('skipped' in tf) skipped.add(`transformers.js baseline: ${tf.skipped}`);
            sample.transformers = msOf(tf);
            sample.transformersCold = 'coldMs' in tf ? tf.coldMs : undefined;
          },
        ];
        // On a shared machine one sample swings by 2× with the load, so a fixed order let whichever
        // baseline always ran first (right after the extension's browser closed) or last look
        // systematically faster. Every other run takes them in the reverse order.
        for (const measure of run % 2 === 0 ? baselines : baselines.toReversed()) await measure();
        if (page.index === 0) {
          log(`  speed claim: mci0 vs vitb16, ${o.claimImages} images`);
          claims.push({ images: o.claimImages, ...(await speedClaim(job, o.claimImages)) });
        }
        await closeBrowser();
      }
    }
  } finally {
    await closeBrowser();
    await server.close();
  }
  load.push(loadavg()[0]);
  const summary = summarise(samples, claims);
  const goals = evaluateGoals(samples);
  const totalS = (performance.now() - started) / 1000;
  console.log(
    `\n${model.spec.label} replica (${model.vision} + ${model.text}, random weights), release build, Chromium headless; ` +
      `${o.pages} page(s) × ${o.images} images, ${o.runs} run(s); ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
      `load average ${load.map((l) => l.toFixed(1)).join(' → ')}; took ${totalS.toFixed(0)} s\n`,
  );
  printTable(summary, [...skipped]);
  printGoals(goals);
  const resultsDir = join(import.meta.dirname, '../results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        bench: 'page',
        date: new Date().toISOString(),
        options: o,
        model: { id: model.spec.id, vision: model.vision, text: model.text },
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGB: totalmem() / 2 ** 30, loadAverage: load },
        durationS: totalS,
        summary,
        goals,
        skipped: [...skipped],
        samples,
        claims,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
