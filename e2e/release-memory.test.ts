// releaseBuffer frees a buffer the browser allocated (a fetched body, a message's bytes) only at
// the context's next full collection; collectReleased asks for one (src/bytes.ts). A worker that
// allocates little in JS otherwise holds such buffers for seconds. Checked where it matters, in
// Chromium's extension service worker, by the process's proportional set size (Linux /proc).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { launchChromium, type ChromiumHarness } from './browsers';
import { extensionProcesses } from '../bench/page/proc-sampler';

const MB = 2 ** 20;
const SIZE_MB = 64;

/** PSS in MB of the extension process running the service worker (its thread names say which). */
function serviceWorkerPss(userDataDir: string): number {
  const found = extensionProcesses(userDataDir).filter((p) => Object.keys(p.threads).some((name) => name.startsWith('ServiceWorker')));
  if (found.length !== 1) throw new Error(`expected one service-worker process, found ${found.length}`);
  return found[0].pss / MB;
}

const settle = () => new Promise((r) => setTimeout(r, 1000));

describe('releasing browser-allocated buffers (Chromium)', () => {
  let harness: ChromiumHarness;
  beforeAll(async () => {
    harness = await launchChromium(resolve('dist-test/chrome'));
  });
  afterAll(async () => harness?.close());

  it('frees a fetched body once it is released and a collection is asked for', async () => {
    await harness.evalInExtension(async (size) => {
      const filled = new Uint8Array(size).fill(7);
      // The browser's own copy, as fetch() gives: the memory releaseBuffer cannot free by itself.
      const body = await new Response(filled).arrayBuffer();
      (filled.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
      (globalThis as { __held?: ArrayBuffer }).__held = body;
    }, SIZE_MB * MB);
    await settle();
    const held = serviceWorkerPss(harness.userDataDir);
    await harness.evalInExtension(async () => {
      const g = globalThis as { __held?: ArrayBuffer; __lensTest?: { releaseBuffer(b: ArrayBuffer): void; collectReleased(): void } };
      g.__lensTest!.releaseBuffer(g.__held!);
      delete g.__held;
      // After this task, when nothing refers to the buffer any more.
      await new Promise((r) => setTimeout(r));
      g.__lensTest!.collectReleased();
    });
    await settle();
    const released = serviceWorkerPss(harness.userDataDir);
    expect(held - released).toBeGreaterThan(SIZE_MB * 0.75);
  });
});
