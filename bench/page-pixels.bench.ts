// Issue 12 asks to measure each place decoding could run, the page's content script among them,
// "where it already holds the decoded pixels". This bench answers for that one: on bench:page's
// generated pictures, shown in a plain page as a page shows them, it times reading the model input
// from the shown picture on the page's main thread (where a content script runs) against the
// decode worker's path on the same file, with the fidelity of the first against the second; then
// the same read from a picture of another origin (most pages' pictures come from a CDN), which
// the canvas refuses. Chromium, and Firefox when installed.
//
// Run: npx tsx bench/page-pixels.bench.ts [--images N] [--shown 240] [--browser chromium|firefox]
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { build } from 'vite';
import { CHROMIUM_PATH, findFirefox } from '../e2e/browsers.ts';
import { serveDirectories } from '../e2e/static-dirs.ts';
import type { PixelsRecord, PixelsRequest } from './page-pixels/page.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, '.cache/page-pixels');
const IMAGES = join(ROOT, '.cache/bench-page/images/page-0');
const SIZE = 256;
/** Pictures read from another origin: enough to show what the canvas does with them. */
const CROSS_ORIGIN_PICTURES = 5;
const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const imageCount = Number(option('--images') ?? 100);
const shownWidth = Number(option('--shown') ?? 240);
const browsers = option('--browser') ? [option('--browser')!] : ['chromium', 'firefox'];

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.png': 'image/png', '.jpg': 'image/jpeg', '.webp': 'image/webp' };
const PAGE = `<!doctype html><meta charset="utf-8"><title>page pixels</title><body><script type="module" src="./page.js"></script>`;

async function bundle(): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      lib: { entry: { page: join(ROOT, 'bench/page-pixels/page.ts'), worker: join(ROOT, 'bench/page-pixels/worker.ts') }, formats: ['es'], fileName: (_format, name) => `${name}.js` },
      outDir: OUT,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
    },
  });
  writeFileSync(join(OUT, 'index.html'), PAGE);
}

type Measure = (request: PixelsRequest) => Promise<PixelsRecord>;

async function open(browser: string, url: string): Promise<{ measure: Measure; close(): Promise<void> } | undefined> {
  const ready = () => typeof (window as unknown as { measure?: unknown }).measure === 'function';
  if (browser === 'chromium') {
    const instance = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'] });
    const page = await instance.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.waitForFunction(ready);
    return { measure: (r) => page.evaluate((request) => (window as unknown as { measure: Measure }).measure(request), r), close: () => instance.close() };
  }
  const executablePath = findFirefox();
  if (!executablePath) {
    console.log('Firefox: skipped (not installed)');
    return undefined;
  }
  const instance = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true });
  const page = await instance.newPage();
  await page.goto(url);
  await page.waitForFunction(ready);
  return { measure: (r) => page.evaluate((request) => (window as unknown as { measure: Measure }).measure(request), r) as Promise<PixelsRecord>, close: () => instance.close() };
}

const sorted = (xs: number[]) => xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const sum = (xs: number[]) => sorted(xs).reduce((a, b) => a + b, 0);
const ms = (x: number) => x.toFixed(1).padStart(8);

function table(records: PixelsRecord[]): void {
  const rows: [string, (r: PixelsRecord) => number][] = [
    ['page: shown (src → decoded, 2 frames)', (r) => r.shownMs],
    ['main thread: read the shown picture', (r) => r.mainReadMs],
    ['main thread: Pillow-exact resize + input', (r) => r.mainPreprocessMs],
    ['main thread: base64 of the crop', (r) => r.mainEncodeMs],
    ['main thread: all three (a long task)', (r) => r.mainReadMs + r.mainPreprocessMs + r.mainEncodeMs],
    ['decode worker: decode (decoder threads)', (r) => r.workerDecodeMs],
    ['decode worker: read-back of the window', (r) => r.workerReadMs],
  ];
  console.log(`${'stage'.padEnd(44)}${'median'.padStart(8)}${'p90'.padStart(8)}${'max'.padStart(8)}${'sum'.padStart(9)}   (ms, ${records.length} pictures)`);
  for (const [name, of] of rows) {
    const xs = sorted(records.map(of));
    console.log(`${name.padEnd(44)}${ms(median(xs))}${ms(xs[Math.floor(xs.length * 0.9)])}${ms(xs[xs.length - 1])}${ms(sum(xs)).padStart(9)}`);
  }
  const longTasks = records.filter((r) => r.mainReadMs + r.mainPreprocessMs + r.mainEncodeMs > 50).length;
  console.log(`main-thread tasks over 50 ms: ${longTasks} of ${records.length}`);
  const deltas = records.map((r) => r.maxDelta);
  console.log(
    `model input from the shown picture vs the decode worker's: max|Δ| ${Math.max(...deltas)}; pictures over 1: ${deltas.filter((d) => d > 1).length}; ` +
      `bytes differing ${((100 * sum(records.map((r) => r.differing))) / records.length).toFixed(2)} %`,
  );
}

async function main(): Promise<void> {
  if (!existsSync(IMAGES)) {
    // Skipped, not failed, so that `npm run bench` on a fresh checkout runs the others.
    console.log(`page pixels: skipped, no pictures in ${IMAGES} (\`npm run bench:page -- --runs 1\` generates them)`);
    return;
  }
  const files = readdirSync(IMAGES)
    .filter((f) => /\.(jpg|png|webp)$/.test(f))
    .sort()
    .slice(0, imageCount);
  await bundle();
  const roots: [string, string][] = [
    ['/img/', IMAGES],
    ['/', OUT],
  ];
  const servers: Server[] = [await serveDirectories(roots, MIME), await serveDirectories(roots, MIME)];
  const [origin, otherOrigin] = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  console.log(`page pixels: ${files.length} pictures shown ${shownWidth} px wide, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(2)}`);
  try {
    for (const name of browsers) {
      const browser = await open(name, `${origin}/index.html`);
      if (!browser) continue;
      try {
        console.log(`\n=== ${name}`);
        const records: PixelsRecord[] = [];
        for (const file of files) {
          const record = await browser.measure({ url: `${origin}/img/${file}`, size: SIZE, shownWidth });
          if (record.refused) throw new Error(`a same-origin picture was refused: ${record.refused}`);
          records.push(record);
        }
        table(records);
        const cross: PixelsRecord[] = [];
        for (const file of files.slice(0, CROSS_ORIGIN_PICTURES)) cross.push(await browser.measure({ url: `${otherOrigin}/img/${file}`, size: SIZE, shownWidth }));
        const refused = cross.filter((r) => r.refused);
        console.log(`another origin's pictures (no CORS): ${refused.length} of ${cross.length} refused${refused[0] ? `: ${refused[0].refused}` : ''}`);
      } finally {
        await browser.close();
      }
    }
  } finally {
    for (const s of servers) s.close();
  }
}

await main();
