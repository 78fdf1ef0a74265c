// Two vision sessions of one thread each against one session with two threads, on bare
// onnxruntime-web: whether Chrome's engine, whose ORT has threads, should run images on two
// sessions as Firefox's does (src/offscreen/vision-lanes.ts; measured, not built for Chrome:
// bench/README.md, seventh round). A cross-origin-isolated plain page starts its sessions in
// Workers (bench/vision-lanes/) and runs the same images on the MobileCLIP-S0 image tower
// replica (mci0, random weights):
//   one session, N threads                 what Chrome's engine does
//   two sessions of N/2 threads, split     each run of `--batch` split in halves that run at once, the next run
//                                          once both ended (what Firefox's engine does)
//   two sessions, apart                    each session runs its own share of the runs, never waiting for the other
// idle, then with other processes busy part of the time beside them (`--busy K --duty P`: K processes,
// each on the CPU P % of every 20 ms; default 1 at 65 %, about what preparing the images takes beside
// inference in bench:page). Configurations go round robin, one fresh page each; prints medians, ranges,
// the ratio to one session in the same round, and the page's renderer at its largest (PSS).
//
// Run: npx tsx bench/vision-lanes.bench.ts [--rounds 3] [--images 96] [--batch 8] [--threads 2] [--busy 1] [--duty 65]

import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ARCHMODELS_DIR, archModelMeta, ensureArchModels } from '../scripts/archmodels.ts';
import { CHROMIUM_PATH } from '../e2e/browsers.ts';
import { serveDirectories } from '../e2e/static-dirs.ts';
import { busyLoad, medianRange, numberOption } from './cli.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STATIC = join(ROOT, 'bench/vision-lanes');
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
const VISION = 'mci0';

const rounds = numberOption('rounds', 3);
const images = numberOption('images', 96);
const batch = numberOption('batch', 8);
const threads = numberOption('threads', 2);
const busy = numberOption('busy', 1);
const duty = numberOption('duty', 65);

interface Config {
  label: string;
  sessions: number;
  threads: number;
  mode: 'one' | 'split' | 'apart';
}
const CONFIGS: Config[] = [
  { label: `one session, ${threads} threads`, sessions: 1, threads, mode: 'one' },
  { label: `two sessions of ${threads / 2}, runs split`, sessions: 2, threads: threads / 2, mode: 'split' },
  { label: `two sessions of ${threads / 2}, apart`, sessions: 2, threads: threads / 2, mode: 'apart' },
];

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm' };
/** WASM threads need the page cross-origin isolated. */
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The largest PSS of a Chromium renderer now, MB (the bench's page is the only one). */
function rendererPssMB(): number {
  let largest = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const pss = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (pss) largest = Math.max(largest, Number(pss[1]) / 1024);
    } catch {
      // gone meanwhile
    }
  }
  return largest;
}

if (threads < 2 || threads % 2 || images % (batch * 2) || batch % 2) throw new Error('--threads and --batch must be even, --images a multiple of 2 × --batch');
ensureArchModels([VISION]);
const meta = archModelMeta(VISION);
const size = meta.input_shape[3];
// The page, ORT's files and the replica.
const server = await serveDirectories([['/ort/', ORT_DIST], ['/model/', ARCHMODELS_DIR], ['/', STATIC]], TYPES, ISOLATED);
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });

type Sample = { msPerImage: number; pssMB: number };
const results = new Map<string, Sample[]>();

/** One configuration in a fresh page: ms per image and the renderer's largest PSS meanwhile. */
async function measure(config: Config): Promise<Sample> {
  const page = await browser.newPage();
  let pssMB = 0;
  const sampler = setInterval(() => (pssMB = Math.max(pssMB, rendererPssMB())), 200);
  try {
    await page.goto(`${origin}/page.html`);
    const opened = await page.evaluate(
      async (o) => (await import('/page.js' as string)).open(o),
      { sessions: config.sessions, threads: config.threads, batch: config.mode === 'split' ? batch / 2 : batch, size, model: `${origin}/model/${VISION}.onnx`, externalData: [{ path: meta.bin, data: `${origin}/model/${meta.bin}` }] },
    );
    if (!opened.crossOriginIsolated) throw new Error('the page is not cross-origin isolated: no WASM threads');
    const ms = await page.evaluate(async (o) => (await import('/page.js' as string)).run(o), { mode: config.mode, images, batch });
    return { msPerImage: ms / images, pssMB };
  } finally {
    clearInterval(sampler);
    await page.close();
  }
}

const load = { start: loadavg()[0], end: 0 };
try {
  for (const condition of ['idle', `busy ${busy} × ${duty} %`]) {
    const others = condition === 'idle' ? null : busyLoad(busy, duty);
    try {
      for (let round = 0; round < rounds; round++)
        for (let k = 0; k < CONFIGS.length; k++) {
          const config = CONFIGS[(round + k) % CONFIGS.length];
          const sample = await measure(config);
          const key = `${condition}|${config.label}`;
          results.set(key, [...(results.get(key) ?? []), sample]);
          console.error(`${condition}, round ${round + 1}: ${config.label}: ${sample.msPerImage.toFixed(1)} ms per image, renderer ${sample.pssMB.toFixed(0)} MB`);
        }
    } finally {
      others?.stop();
    }
  }
} finally {
  load.end = loadavg()[0];
  await browser.close();
  server.close();
}

console.log(`\nVision sessions: ${VISION} replica, ${images} images in runs of ${batch}, onnxruntime-web WASM, Chromium headless, ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${load.start.toFixed(1)} → ${load.end.toFixed(1)}; ${rounds} rounds, median (range)\n`);
console.log('| condition | configuration | ms per image | ÷ one session | renderer PSS, MB |');
console.log('|---|---|---|---|---|');
for (const [key, samples] of results) {
  const [condition, label] = key.split('|');
  const one = results.get(`${condition}|${CONFIGS[0].label}`)!;
  const ratios = samples.map((s, i) => s.msPerImage / one[i].msPerImage);
  const ms = samples.map((s) => s.msPerImage);
  const pss = samples.map((s) => s.pssMB);
  console.log(`| ${condition} | ${label} | ${medianRange(ms)} | ${medianRange(ratios, 2)} | ${medianRange(pss, 0)} |`);
}
