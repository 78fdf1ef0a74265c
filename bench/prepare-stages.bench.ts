// What one image costs outside inference (issue 12): each stage of prepareImage
// (src/engine/prepare-image.ts) timed per image in a dedicated Worker, as the extension's decode
// worker runs it, on bench:page's generated pictures (JPEG/PNG/WebP, 200-3000 px; run
// `npm run bench:page` once to generate them). Stages: decode (createImageBitmap, full size),
// preview draw (halving steps from the full bitmap) and encode (JPEG), read-back (canvas +
// getImageData) of the crop's source window, preprocess (the Pillow-exact resize + crop). Then
// the alternatives: the whole picture read back, the window through a VideoFrame, the preview
// drawn in one step on a fresh bitmap with each smoothing quality, and decoding at reduced size
// (createImageBitmap's resizeWidth/resizeHeight, 'high' and 'medium') to an intermediate of
// k × the model input's side, then the exact resize: its time and its fidelity (max |Δ| in uint8
// levels, share of bytes that differ) against the full-decode path on the pictures and against
// the Pillow references of ../shared/refs/preprocess. Chromium, and Firefox when installed.
//
// Run: npx tsx bench/prepare-stages.bench.ts [--images N] [--factors 2,3,4] [--browser chromium|firefox]
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDirectories } from '../e2e/static-dirs.ts';
import { spread } from './cli.ts';
import { benchPictures, bundlePage, inEachBrowser, PICTURES, printSpreads } from './plain-page.ts';
import type { FidelityRecord, ReferenceRecord, ReferenceRequest, StageRecord, StageRequest } from './prepare-stages/worker.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, '.cache/prepare-stages');
const REFS = join(ROOT, '../shared/refs/preprocess');
const SIZE = 256;
const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const imageCount = Number(option('--images') ?? 100);
const factors = (option('--factors') ?? '2,3,4').split(',').map(Number);
const browsers = option('--browser') ? [option('--browser')!] : ['chromium', 'firefox'];

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.png': 'image/png', '.jpg': 'image/jpeg', '.webp': 'image/webp' };

const serve = (): Promise<Server> =>
  serveDirectories(
    [
      ['/img/', PICTURES],
      ['/refs/', REFS],
      ['/', OUT],
    ],
    MIME,
  );

const PAGE = `<!doctype html><meta charset="utf-8"><title>prepare stages</title><script type="module">
const worker = new Worker('./worker.js', { type: 'module' });
const waiting = new Map();
let next = 1;
const ready = new Promise((resolve) => worker.addEventListener('message', (e) => {
  if (e.data.ready) return resolve();
  const w = waiting.get(e.data.id); waiting.delete(e.data.id);
  e.data.error ? w.reject(new Error(e.data.error)) : w.resolve(e.data.result);
}));
window.ask = async (message) => { await ready; const id = next++; return new Promise((resolve, reject) => { waiting.set(id, { resolve, reject }); worker.postMessage({ id, ...message }); }); };
</script>`;

function stageTable(records: StageRecord[]): void {
  printSpreads<StageRecord>(
    records,
    [
      ['decode (full size)', (r) => r.decodeMs],
      ['read-back, crop window', (r) => r.readBackMs],
      ['preprocess, crop window', (r) => r.preprocessMs],
      ['preview draw, from the crop (deferred)', (r) => r.previewDrawMs],
      ['preview encode (+ the draw)', (r) => r.previewEncodeMs],
      ['prepareImage total', (r) => r.totalMs],
      ['(alt) preview, whole bitmap halved, +encode', (r) => r.previewWholeMs],
      ['(alt) read-back, whole', (r) => r.fullReadBackMs],
      ['(alt) preprocess, whole', (r) => r.fullPreprocessMs],
      ['(alt) read-back, VideoFrame', (r) => r.videoFrameMs],
      ['(alt) preview, one step, high, +encode', (r) => r.previewHighMs],
      ['(alt) preview, one step, medium, +encode', (r) => r.previewMediumMs],
      ['(alt) preview, one step, low, +encode', (r) => r.previewLowMs],
    ],
  );
  console.log(`crop window vs whole picture: max|Δ| ${Math.max(...records.map((r) => r.windowMaxDelta))} (must be 0)`);
  console.log(`VideoFrame read-back vs canvas: max|Δ| ${Math.max(...records.map((r) => r.videoFrameMaxDelta))} (NaN: not supported)`);
}

function reducedTable(records: StageRecord[]): void {
  console.log(`\nreduced decode to k × ${SIZE} px, then the exact resize, vs the full-decode path (images larger than the intermediate):`);
  console.log(`${'k'.padEnd(3)}${'quality'.padEnd(8)}${'n'.padStart(4)}${'max|Δ|'.padStart(8)}${'>1 imgs'.padStart(8)}${'differ %'.padStart(10)}  ${'time (decode+read+pre) vs full, sums'}`);
  for (const factor of factors) {
    for (const quality of ['high', 'medium']) {
      const pairs = records
        .map((r) => [r, r.reduced.find((x) => x.factor === factor && x.quality === quality)!] as [StageRecord, FidelityRecord])
        .filter(([, x]) => x.side > 0);
      if (!pairs.length) continue;
      const reducedMs = spread(pairs.map(([, x]) => x.decodeMs + x.readBackMs + x.preprocessMs)).sum;
      const fullMs = spread(pairs.map(([r]) => r.decodeMs + r.readBackMs + r.preprocessMs)).sum;
      const worst = Math.max(...pairs.map(([, x]) => x.maxDelta));
      const over = pairs.filter(([, x]) => x.maxDelta > 1).length;
      const differing = (100 * spread(pairs.map(([, x]) => x.differing)).sum) / pairs.length;
      console.log(
        `${String(factor).padEnd(3)}${quality.padEnd(8)}${String(pairs.length).padStart(4)}${String(worst).padStart(8)}${String(over).padStart(8)}${differing.toFixed(2).padStart(10)}  ${reducedMs.toFixed(0)} ms vs ${fullMs.toFixed(0)} ms`,
      );
    }
  }
}

async function main(): Promise<void> {
  const files = benchPictures('prepare stages', imageCount);
  if (!files) return;
  const cases = (JSON.parse(readFileSync(join(REFS, 'cases.json'), 'utf8')) as { name: string }[]).map((c) => c.name);
  await bundlePage({ worker: join(ROOT, 'bench/prepare-stages/worker.ts') }, OUT, PAGE);
  const server = await serve();
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`prepare stages: ${files.length} pictures, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}`);
  try {
    await inEachBrowser(browsers, `${origin}/index.html`, 'ask', async (page) => {
      const records: StageRecord[] = [];
      for (const file of files) {
        const type = MIME[extname(file)];
        records.push(await page.call<StageRecord>({ stage: { url: `${origin}/img/${file}`, type, size: SIZE, factors } }));
      }
      stageTable(records);
      reducedTable(records);
      console.log(`\nreference cases (../shared/refs/preprocess), max|Δ| / differ % against Pillow; k=0 is the full decode:`);
      for (const c of cases) {
        const refs = await page.call<ReferenceRecord[]>({ reference: { png: `${origin}/refs/${c}.png`, rgb: `${origin}/refs/${c}.rgb`, size: SIZE, factors } });
        const cells = refs.map((r) => (r.side ? `k=${r.factor}${r.factor ? ` ${r.quality}` : ''}: ${r.maxDelta} / ${(100 * r.differing).toFixed(2)}%` : `k=${r.factor} ${r.quality}: n/a`));
        console.log(`${c.padEnd(10)} ${cells.join(' | ')}`);
      }
    });
  } finally {
    server.close();
  }
}

await main();
