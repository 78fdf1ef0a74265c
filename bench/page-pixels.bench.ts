// Issue 12 asks to measure each place decoding could run, the page's content script among them,
// "where it already holds the decoded pixels". This bench answers for that one: on bench:page's
// generated pictures, shown in a plain page as a page shows them, it times reading the model input
// from the shown picture on the page's main thread (where a content script runs) against the
// decode worker's path on the same file, with the fidelity of the first against the second; then
// the same read from a picture of another origin (most pages' pictures come from a CDN), which
// the canvas refuses. Chromium, and Firefox when installed.
//
// Run: npx tsx bench/page-pixels.bench.ts [--images N] [--shown 240] [--browser chromium|firefox]
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDirectories } from '../e2e/static-dirs.ts';
import type { PixelsRecord, PixelsRequest } from './page-pixels/page.ts';
import { spread } from './cli.ts';
import { benchPictures, bundlePage, inEachBrowser, PICTURES, printSpreads } from './plain-page.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, '.cache/page-pixels');
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

function table(records: PixelsRecord[]): void {
  printSpreads<PixelsRecord>(
    records,
    [
      ['page: shown (src → decoded, 2 frames)', (r) => r.shownMs],
      ['main thread: read the shown picture', (r) => r.mainReadMs],
      ['main thread: Pillow-exact resize + input', (r) => r.mainPreprocessMs],
      ['main thread: base64 of the crop', (r) => r.mainEncodeMs],
      ['main thread: all three (a long task)', (r) => r.mainReadMs + r.mainPreprocessMs + r.mainEncodeMs],
      ['decode worker: decode (decoder threads)', (r) => r.workerDecodeMs],
      ['decode worker: read-back of the window', (r) => r.workerReadMs],
    ],
    44,
  );
  const longTasks = records.filter((r) => r.mainReadMs + r.mainPreprocessMs + r.mainEncodeMs > 50).length;
  console.log(`main-thread tasks over 50 ms: ${longTasks} of ${records.length}`);
  const deltas = records.map((r) => r.maxDelta);
  console.log(
    `model input from the shown picture vs the decode worker's: max|Δ| ${Math.max(...deltas)}; pictures over 1: ${deltas.filter((d) => d > 1).length}; ` +
      `bytes differing ${((100 * spread(records.map((r) => r.differing)).sum) / records.length).toFixed(2)} %`,
  );
}

async function main(): Promise<void> {
  const files = benchPictures('page pixels', imageCount);
  if (!files) return;
  await bundlePage({ page: join(ROOT, 'bench/page-pixels/page.ts'), worker: join(ROOT, 'bench/page-pixels/worker.ts') }, OUT, PAGE);
  const roots: [string, string][] = [
    ['/img/', PICTURES],
    ['/', OUT],
  ];
  const servers: Server[] = [await serveDirectories(roots, MIME), await serveDirectories(roots, MIME)];
  const [origin, otherOrigin] = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  console.log(`page pixels: ${files.length} pictures shown ${shownWidth} px wide, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(2)}`);
  try {
    await inEachBrowser(browsers, `${origin}/index.html`, 'measure', async (page) => {
      const records: PixelsRecord[] = [];
      for (const file of files) {
        const record = await page.call<PixelsRecord>({ url: `${origin}/img/${file}`, size: SIZE, shownWidth } satisfies PixelsRequest);
        if (record.refused) throw new Error(`a same-origin picture was refused: ${record.refused}`);
        records.push(record);
      }
      table(records);
      const cross: PixelsRecord[] = [];
      for (const file of files.slice(0, CROSS_ORIGIN_PICTURES)) cross.push(await page.call<PixelsRecord>({ url: `${otherOrigin}/img/${file}`, size: SIZE, shownWidth } satisfies PixelsRequest));
      const refused = cross.filter((r) => r.refused);
      console.log(`another origin's pictures (no CORS): ${refused.length} of ${cross.length} refused${refused[0] ? `: ${refused[0].refused}` : ''}`);
    });
  } finally {
    for (const s of servers) s.close();
  }
}

await main();
