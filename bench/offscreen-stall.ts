// Does the engine in Chrome's offscreen document freeze the extension's other pages? The popup
// and the offscreen document are same-origin extension pages in one renderer process; whatever
// runs on the document's main thread (ORT's WASM, unless it runs in a worker) blocks theirs.
//
// Loads a release build (npm run build, with a model in models/: the MobileCLIP-S0 replica in
// the Hugging Face layout, as bench:page fetches it), opens an extension page with a lag probe
// (the longest lateness of a 10 ms timer, and the total of lateness over 50 ms), then drives the
// offscreen document over its own engine channel from the service worker: open the model, then
// image batches of 8, then single text queries. Prints, per run, the open time, the median batch
// and text times, and the probe's stalls during the open and during the batches.
//
// Not part of `npm run bench` (it needs the release build). Run:
//   npx tsx scripts/build.ts --target chrome && npx tsx bench/offscreen-stall.ts [runs] [--dir dist/chrome]

import { resolve } from 'node:path';
import { launchChromium } from '../e2e/browsers.ts';
import { requireModel } from '../src/engine/registry.ts';
import type { ModelSpec } from '../src/engine/types.ts';
import { CONNECT, OFFSCREEN_PATH } from '../src/offscreen/protocol.ts';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
const dir = resolve(args.includes('--dir') ? args[args.indexOf('--dir') + 1] : 'dist/chrome');
const BATCHES = 6;
const BATCH = 8;
const TEXTS = 5;

const NAME_SHIM = 'globalThis.__name ??= (fn) => fn;';
const PROBE = `(() => {
  const s = (globalThis.__stall = { max: 0, over50: 0, mark() { this.max = 0; this.over50 = 0; } });
  let expected = performance.now() + 10;
  const tick = () => {
    const late = performance.now() - expected;
    if (late > s.max) s.max = late;
    if (late > 50) s.over50 += late;
    expected = performance.now() + 10;
    setTimeout(tick, 10);
  };
  setTimeout(tick, 10);
})();`;

interface SwResult {
  openMs: number;
  threads: number;
  batchMs: number[];
  textMs: number[];
}

/** Runs in the service worker: the engine channel as src/offscreen/client.ts speaks it, with timings. */
async function drive(a: { spec: ModelSpec; path: string; connect: string; phase: 'open' | 'run'; batches: number; batch: number; texts: number }): Promise<SwResult> {
  const g = globalThis as unknown as {
    chrome: {
      runtime: { getURL(p: string): string; getContexts(f: object): Promise<unknown[]> };
      offscreen: { createDocument(p: object): Promise<void> };
    };
    clients: { matchAll(o: object): Promise<{ url: string; postMessage(m: unknown, t: Transferable[]): void }[]> };
    __bench?: { port: MessagePort; next: number; pending: Map<number, (r: unknown) => void> };
  };
  const url = g.chrome.runtime.getURL(a.path);
  if (!g.__bench) {
    if (!(await g.chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).length)
      await g.chrome.offscreen.createDocument({ url, reasons: ['WORKERS'], justification: 'benchmark' });
    let client;
    for (let i = 0; i < 100 && !client; i++) {
      client = (await g.clients.matchAll({ includeUncontrolled: true, type: 'window' })).find((c) => c.url === url);
      if (!client) await new Promise((r) => setTimeout(r, 50));
    }
    if (!client) throw new Error('no offscreen client');
    const { port1, port2 } = new MessageChannel();
    client.postMessage(a.connect, [port2]);
    const bench = (g.__bench = { port: port1, next: 1, pending: new Map<number, (r: unknown) => void>() });
    port1.onmessage = (e: MessageEvent<{ id: number }>) => bench.pending.get(e.data.id)?.(e.data);
  }
  const bench = g.__bench;
  const request = (msg: object, transfer: Transferable[] = []) =>
    new Promise<{ ok: boolean; error?: string; opened?: { threads: number } }>((done) => {
      const id = bench.next++;
      bench.pending.set(id, done as (r: unknown) => void);
      bench.port.postMessage({ id, ...msg }, transfer);
    }).then((r) => {
      if (!r.ok) throw new Error(r.error);
      return r;
    });
  const out: SwResult = { openMs: 0, threads: 0, batchMs: [], textMs: [] };
  if (a.phase === 'open') {
    const t0 = performance.now();
    const r = await request({ op: 'open', spec: a.spec, source: { kind: 'bundled', baseUrl: g.chrome.runtime.getURL('models') } });
    out.openMs = performance.now() - t0;
    out.threads = r.opened!.threads;
    return out;
  }
  const per = 3 * a.spec.imageSize * a.spec.imageSize;
  for (let b = 0; b < a.batches; b++) {
    const pixels = new Float32Array(a.batch * per).map(() => Math.random());
    const t0 = performance.now();
    await request({ op: 'images', pixels, count: a.batch }, [pixels.buffer]);
    out.batchMs.push(performance.now() - t0);
  }
  for (let t = 0; t < a.texts; t++) {
    const t0 = performance.now();
    await request({ op: 'texts', texts: [`a photo of a cat number ${t}`] });
    out.textMs.push(performance.now() - t0);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number) => x.toFixed(0).padStart(6);

async function main(): Promise<void> {
  const spec = requireModel('mobileclip-s0');
  console.log(`build: ${dir}\nrun   open ms  first batch  median batch  median text  stall open (max / >50 ms sum)  stall batches (max / >50 ms sum)`);
  for (let run = 0; run < runs; run++) {
    const harness = await launchChromium(dir);
    try {
      const ctx = harness.context;
      const page = await ctx.newPage();
      await page.goto(`${harness.extensionBaseUrl}manifest.json`);
      await page.evaluate(PROBE);
      // tsx names functions with a __name helper that the browser contexts lack.
      await page.evaluate(NAME_SHIM);
      await (await harness.serviceWorker()).evaluate(NAME_SHIM);
      const stalls = () => page.evaluate(() => {
        const s = (globalThis as unknown as { __stall: { max: number; over50: number; mark(): void } }).__stall;
        const r = { max: s.max, over50: s.over50 };
        s.mark();
        return r;
      });
      const base = { spec, path: OFFSCREEN_PATH, connect: CONNECT, batches: BATCHES, batch: BATCH, texts: TEXTS };
      await stalls();
      const opened = await harness.evalInExtension(drive, { ...base, phase: 'open' as const });
      const openStall = await stalls();
      const ran = await harness.evalInExtension(drive, { ...base, phase: 'run' as const });
      const runStall = await stalls();
      console.log(
        `${String(run + 1).padStart(3)} ${f(opened.openMs)}      ${f(ran.batchMs[0])}        ${f(median(ran.batchMs.slice(1)))}       ${f(median(ran.textMs))}           ${f(openStall.max)} / ${f(openStall.over50)}                ${f(runStall.max)} / ${f(runStall.over50)}   threads ${opened.threads}`,
      );
    } finally {
      await harness.close();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
