// The bench extension's service worker: the single-threaded WASM baseline (a service worker
// cannot start Workers), and the driver of the offscreen document and the transports. The
// Node script calls `globalThis.bench.*` through playwright.

import * as ort from 'onnxruntime-web';
import { Runner, type RunnerAnswer, type RunnerCommand } from './runner.ts';
import { CHANNEL, type PageCommand, type PageReply, type PixelsMessage, type RowsMessage } from './protocol.ts';

ort.env.wasm.numThreads = 1;

interface ChromeApi {
  offscreen: {
    createDocument(p: { url: string; reasons: string[]; justification: string }): Promise<void>;
    closeDocument(): Promise<void>;
    hasDocument(): Promise<boolean>;
  };
  runtime: { sendMessage(msg: PageCommand): Promise<PageReply> };
}
const chrome = (globalThis as unknown as { chrome: ChromeApi }).chrome;
const sw = globalThis as unknown as ServiceWorkerGlobalScope;

async function openOffscreen(threads: number): Promise<void> {
  if (await chrome.offscreen.hasDocument()) await chrome.offscreen.closeDocument();
  await chrome.offscreen.createDocument({
    url: `engine.html?role=offscreen&threads=${threads}`,
    reasons: ['WORKERS'],
    justification: 'benchmark of multi-threaded WebAssembly inference',
  });
}

async function ask(cmd: PageCommand): Promise<PageReply> {
  const reply = await chrome.runtime.sendMessage(cmd);
  if (!reply) throw new Error(`no answer from the ${cmd.target} page`);
  if (!reply.ok) throw new Error(reply.error);
  return reply;
}

export interface TransportTimes {
  name: string;
  /** Median round trip, milliseconds: pixels there, embeddings back. */
  roundTrip: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function check(sent: Float32Array, received: number, last: number, rows: ArrayLike<number>[], want: number): void {
  if (received !== sent.length || last !== sent[sent.length - 1] || rows.length !== want)
    throw new Error(`transport lost data: sent ${sent.length} floats, ${received} arrived; ${rows.length} rows back`);
}

/** Round trips of one batch of pixels to the offscreen document and its embeddings back, per transport. */
async function transports(p: { iterations: number; batch: number; size: number; dim: number }): Promise<TransportTimes[]> {
  const template = new Float32Array(p.batch * 3 * p.size * p.size).map((_, i) => (i % 1000) / 1000);
  const results: TransportTimes[] = [];
  const timeIt = async (name: string, once: (pixels: Float32Array) => Promise<void>) => {
    const times: number[] = [];
    for (let i = 0; i <= p.iterations; i++) {
      const pixels = template.slice(); // fresh each time, as the indexer packs each batch (and transfer detaches it)
      const t0 = performance.now();
      await once(pixels);
      if (i > 0) times.push(performance.now() - t0); // the first round trip warms up
    }
    results.push({ name, roundTrip: median(times) });
  };

  await timeIt('chrome.runtime.sendMessage (JSON arrays)', async (pixels) => {
    const reply = await ask({ target: 'offscreen', type: 'echo-json', pixels: Array.from(pixels), rows: p.batch, dim: p.dim });
    if (!('rows' in reply)) throw new Error('unexpected reply');
    const rows = reply.rows.map((r) => Float32Array.from(r));
    check(pixels, reply.received, reply.last, rows, p.batch);
  });

  const channel = new BroadcastChannel(CHANNEL);
  let next = 0;
  await timeIt('BroadcastChannel (structured clone)', (pixels) => {
    const id = ++next;
    return new Promise<void>((done, fail) => {
      channel.onmessage = (e: MessageEvent<RowsMessage>) => {
        if (e.data.id !== id) return;
        try {
          check(pixels, e.data.received, e.data.last, e.data.rows, p.batch);
          done();
        } catch (err) {
          fail(err);
        }
      };
      channel.postMessage({ id, pixels, rows: p.batch, dim: p.dim } satisfies PixelsMessage);
    });
  });
  channel.close();

  const port = await portToOffscreen();
  await timeIt('MessagePort via clients.postMessage (transfer)', (pixels) => {
    const id = ++next;
    const length = pixels.length;
    const last = pixels[length - 1];
    return new Promise<void>((done, fail) => {
      port.onmessage = (e: MessageEvent<RowsMessage>) => {
        if (e.data.id !== id) return;
        try {
          check({ length, [length - 1]: last } as unknown as Float32Array, e.data.received, e.data.last, e.data.rows, p.batch);
          done();
        } catch (err) {
          fail(err);
        }
      };
      port.postMessage({ id, pixels, rows: p.batch, dim: p.dim } satisfies PixelsMessage, [pixels.buffer]);
    });
  });
  port.close();
  return results;
}

async function portToOffscreen(): Promise<MessagePort> {
  const clients = await sw.clients.matchAll({ includeUncontrolled: true, type: 'window' });
  const doc = clients.find((c) => new URL(c.url).searchParams.get('role') === 'offscreen');
  if (!doc) throw new Error(`offscreen document not among the worker's clients: ${clients.map((c) => c.url).join(', ')}`);
  const { port1, port2 } = new MessageChannel();
  const ready = new Promise<void>((done) => {
    port1.onmessage = () => done();
  });
  doc.postMessage('port', [port2]);
  await ready;
  return port1;
}

const runner = new Runner(ort, 1, 'service worker');

const bench = {
  /** The service worker's own engine (one thread). */
  serviceWorker: (cmd: RunnerCommand): Promise<RunnerAnswer> => runner.handle(cmd),
  /** (Re)creates the offscreen document with `threads` threads. */
  openOffscreen,
  /** The offscreen document's engine, through runtime messages (the timing happens there). */
  async offscreen(cmd: RunnerCommand): Promise<RunnerAnswer> {
    const reply = await ask({ target: 'offscreen', type: 'runner', cmd });
    if (!('answer' in reply)) throw new Error('unexpected reply');
    return reply.answer;
  },
  async transports(p: { iterations: number; batch: number; size: number; dim: number }): Promise<TransportTimes[]> {
    if (!(await chrome.offscreen.hasDocument())) await openOffscreen(1);
    return transports(p);
  },
};
export type Bench = typeof bench;
(globalThis as unknown as { bench: Bench }).bench = bench;
