// WASM threads in Chrome: is the engine faster in a cross-origin-isolated offscreen document
// with N threads than in the extension's service worker, which cannot start Workers and so
// runs onnxruntime-web on one thread? And what does it cost to move a batch of pixels there
// and the embeddings back?
//
// Builds a small benchmark extension (bench/browser-threads/: a service worker and one engine
// page, with the COOP/COEP manifest keys that make extension pages cross-origin isolated),
// loads it in Chromium and times the same ClipEngine the extension uses on the MobileCLIP-S0
// architecture replicas (mci0 image tower, text_mct text tower; random weights, speed only) in
//   service worker, 1 thread                 — what the extension did before (the baseline)
//   extension tab, 1 thread                  — control: "a page instead of the worker" without threads
//   offscreen document, N threads            — N = navigator.hardwareConcurrency (or --threads N)
//   extension tab, N threads, no spinning    — the same with session.intra_op.allow_spinning = 0
// All engines stay open and the calls go round robin (one call per context in turn), so other
// load on the machine hits each context alike. Then the round trip of one batch
// (8 × 3×256×256 float32 = 6 MB out, 8 × 512 float32 back) between the worker and the
// offscreen document over three transports. Prints medians and ratios against the baseline.
//
// --busy K keeps K extra processes on the CPU during the timed rounds (--duty P: each busy P %
// of the time, in 20 ms periods; default 100): a page or another program busy at the same
// time, which is when a thread pool as wide as the machine suffers.
//
// Run: npx tsx bench/browser-threads.bench.ts [rounds] [--threads N] [--busy K [--duty P]] [--verbose]

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { ARCHMODELS_DIR, archModelSpec, CLIP_BPE_PATH, ensureArchModels } from '../scripts/archmodels.ts';
import { ClipTokenizer } from '../src/engine/tokenizer.ts';
import { CHROMIUM_PATH, launchChromium } from '../e2e/browsers.ts';
import { busyLoad } from './cli.ts';
import type { EngineRequest, RunKind, RunnerAnswer, RunnerCommand, RunnerInfo } from './browser-threads/runner.ts';
import type { Bench, TransportTimes } from './browser-threads/sw.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXT_DIR = join(ROOT, '.cache/bench-threads-ext');
const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 9);
const threadsArg = args.includes('--threads') ? Number(args[args.indexOf('--threads') + 1]) : undefined;
const busy = args.includes('--busy') ? Number(args[args.indexOf('--busy') + 1]) : 0;
const duty = args.includes('--duty') ? Number(args[args.indexOf('--duty') + 1]) : 100;
const verbose = args.includes('--verbose');
const BATCH = 8;
const VISION = 'mci0';
const TEXT = 'text_mct';
const KINDS: RunKind[] = ['image1', 'imageBatch', 'text1', 'textBatch'];

if (!existsSync(CHROMIUM_PATH)) {
  console.error(`Chromium not found at ${CHROMIUM_PATH} (sudo apt-get install -y chromium)`);
  process.exit(1);
}

/** The replicas over http, with the headers a cross-origin-isolated page needs to fetch them. */
function serveModels(): Promise<Server> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname.slice(1));
    const file = normalize(join(ARCHMODELS_DIR, name));
    if (!file.startsWith(ARCHMODELS_DIR + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

ensureArchModels([VISION, TEXT]);
await build({ configFile: join(ROOT, 'bench/browser-threads/vite.config.ts') });
const tokenizer = await ClipTokenizer.load(new Uint8Array(readFileSync(CLIP_BPE_PATH)));
const texts = Array.from({ length: BATCH }, (_, i) => `a photo of object number ${i} on a table`);
const server = await serveModels();
const req: EngineRequest = {
  modelBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
  spec: archModelSpec(VISION, TEXT),
  vision: VISION,
  text: TEXT,
  ids: texts.map((t) => Array.from(tokenizer.tokenize(t))),
  batch: BATCH,
};

interface Context {
  info: RunnerInfo;
  send(cmd: RunnerCommand): Promise<RunnerAnswer>;
  samples: Record<RunKind, number[]>;
}

/**
 * Round 0 is a warm-up (WASM tier-up, thread pools, allocator), not recorded. Each round starts
 * with a different context, so none always runs right after the same neighbour.
 */
async function interleave(contexts: Context[]): Promise<void> {
  for (let round = 0; round <= rounds; round++) {
    for (const kind of KINDS) {
      for (let k = 0; k < contexts.length; k++) {
        const c = contexts[(round + k) % contexts.length];
        const ms = (await c.send({ op: 'run', kind })) as number;
        if (round > 0) c.samples[kind].push(ms);
      }
    }
  }
}

const loadAverage = [loadavg()[0]];
const browser = await launchChromium(EXT_DIR);
let contexts: Context[];
let transports: TransportTimes[];
try {
  type G = { bench: Bench };
  const inWorker = async <R, A>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> =>
    (await browser.serviceWorker()).evaluate(fn as (arg: unknown) => Promise<R>, arg as unknown);
  const threads = threadsArg ?? (await inWorker(async () => navigator.hardwareConcurrency, undefined));
  await inWorker((n) => (globalThis as unknown as G).bench.openOffscreen(n), threads);
  const inTab = async (query: string) => {
    const tab = await browser.openPage(`engine.html?role=tab&${query}`);
    return (cmd: RunnerCommand) =>
      tab.evaluate((c) => (globalThis as unknown as { runner: { handle(c: RunnerCommand): Promise<RunnerAnswer> } }).runner.handle(c), cmd);
  };
  const senders: ((cmd: RunnerCommand) => Promise<RunnerAnswer>)[] = [
    (cmd) => inWorker((c) => (globalThis as unknown as G).bench.serviceWorker(c), cmd),
    await inTab('threads=1'),
    (cmd) => inWorker((c) => (globalThis as unknown as G).bench.offscreen(c), cmd),
    await inTab(`threads=${threads}&spin=0`),
  ];
  contexts = [];
  for (const send of senders) {
    const info = (await send({ op: 'open', req })) as RunnerInfo;
    if (info.threads > 1 && !info.crossOriginIsolated) throw new Error(`${info.context} is not cross-origin isolated: no WASM threads there`);
    contexts.push({ info, send, samples: { image1: [], imageBatch: [], text1: [], textBatch: [] } });
  }
  const load = busyLoad(busy, duty);
  try {
    await interleave(contexts);
  } finally {
    load.stop();
  }
  for (const c of contexts) await c.send({ op: 'close' });
  transports = await inWorker((p) => (globalThis as unknown as G).bench.transports(p), {
    iterations: Math.max(rounds, 9),
    batch: BATCH,
    size: req.spec.imageSize,
    dim: req.spec.embedDim,
  });
} finally {
  await browser.close();
  server.close();
}
loadAverage.push(loadavg()[0]);

const table = (rows: string[][]) => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
};
const fmt = (x: number) => x.toFixed(1);
const label = (i: RunnerInfo) => `${i.context}, ${i.threads} thread${i.threads > 1 ? 's' : ''}${i.spinning ? '' : ', no spinning'}`;
const base = contexts[0];
const med = (c: Context, k: RunKind) => median(c.samples[k]);
/** Median over rounds of time / the baseline's time in the same round: other load on the machine cancels out. */
const pairedRatio = (c: Context, k: RunKind) => median(c.samples[k].map((x, i) => x / base.samples[k][i]));

if (verbose) for (const c of contexts) console.log(label(c.info), JSON.stringify(c.samples, (_, v) => (typeof v === 'number' ? Math.round(v) : v)));
console.log(
  `${VISION} + ${TEXT} replicas, onnxruntime-web WASM in Chromium, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
    `hardwareConcurrency ${base.info.hardwareConcurrency}, ${busy} busy process${busy === 1 ? '' : 'es'} added` +
    `${busy ? ` (${duty} % of the time)` : ''}, ` +
    `load average ${loadAverage.map((l) => l.toFixed(1)).join(' → ')}; ` +
    `median of ${rounds} interleaved rounds, ms per call; ratio = median over rounds of time / service-worker time in ` +
    `the same round (< 1 is faster)`,
);
table([
  ['context', 'image b1', 'ratio', `image b${BATCH}`, 'ratio', 'text b1', 'ratio', `text b${BATCH}`, 'ratio', 'open+warm-up'],
  ...contexts.map((c) => [
    label(c.info),
    ...KINDS.flatMap((k) => [fmt(med(c, k)), pairedRatio(c, k).toFixed(2)]),
    c.info.openMs.toFixed(0),
  ]),
]);

const offscreen = contexts[2];
console.log(
  `\nOne batch, service worker → offscreen document → back (${BATCH} × 3×${req.spec.imageSize}² float32 out, ` +
    `${BATCH} × ${req.spec.embedDim} float32 back), median round trip:`,
);
table([
  ['transport', 'ms', `vs image b${BATCH} in ${label(offscreen.info)}`],
  ...transports.map((t) => [t.name, fmt(t.roundTrip), `${((100 * t.roundTrip) / med(offscreen, 'imageBatch')).toFixed(1)} %`]),
]);
const fastest = Math.min(...transports.map((t) => t.roundTrip));
const end = med(offscreen, 'imageBatch') + fastest;
console.log(
  `\nImage batch of ${BATCH} end to end: service worker ${fmt(med(base, 'imageBatch'))} ms; ${label(offscreen.info)} ` +
    `+ fastest transport ${fmt(end)} ms (ratio ${(end / med(base, 'imageBatch')).toFixed(2)}).`,
);
