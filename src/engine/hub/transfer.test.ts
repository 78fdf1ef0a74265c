// The transfer of single files against a fake Hugging Face host: hash checks, 404s, dropped
// connections resumed with Range (within a call and across calls), servers ignoring Range,
// stalls, unreachable hosts and aborts.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { gitBlobOid } from '../../bytes.ts';
import { collect, ensureAndRead, expectBytes, expectMonotonic, fast, gitOid, rejection, sha256, testSpec, useFakeHub } from './fake-hub.ts';
import { ensureModelStored, isModelStored } from './model-files.ts';
import { MemoryModelStore } from './store.ts';

const hub = useFakeHub();

describe('integrity', () => {
  it('rejects a file whose bytes do not match the listed SHA-256 and stores nothing of it', async () => {
    hub.serveModel('t/corrupt');
    hub.serve('t/corrupt', 'onnx/vision_model.onnx', randomBytes(50_000), { listedSha256: sha256(randomBytes(50_000)) });
    const store = new MemoryModelStore();
    const err = await rejection(ensureModelStored(testSpec('t/corrupt'), { backend: 'wasm', baseUrl: hub.base, store, ...fast }));
    expect(err.code).toBe('integrity');
    expect(err.message).toContain('onnx/vision_model.onnx');
    expect(err.message).toMatch(/SHA-256/);
    const prefix = 't-corrupt@main/';
    expect(await store.get(`${prefix}onnx/vision_model.onnx`)).toBeUndefined();
    expect(await store.getPartial(`${prefix}onnx/vision_model.onnx`)).toBeUndefined();
    expect(await isModelStored(testSpec('t/corrupt'), 'wasm', { store })).toBe(false);
  });

  it('checks non-LFS files against their git blob id', async () => {
    hub.serveModel('t/gitoid');
    const store = new MemoryModelStore();
    await ensureModelStored(testSpec('t/gitoid'), { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    const tok = (await store.get('t-gitoid@main/tokenizer.json'))!;
    expect(await gitBlobOid(tok)).toBe(gitOid(tok));

    hub.serveModel('t/gitoid-bad');
    hub.serve('t/gitoid-bad', 'tokenizer.json', new TextEncoder().encode('{"changed":1}'), {
      lfs: false,
      listedGitOid: gitOid(new TextEncoder().encode('{"changed":2}')),
    });
    const other = new MemoryModelStore();
    const err = await rejection(ensureModelStored(testSpec('t/gitoid-bad'), { backend: 'wasm', baseUrl: hub.base, store: other, ...fast }));
    expect(err.code).toBe('integrity');
    expect(err.message).toMatch(/^tokenizer\.json failed verification \(git blob id/);
    expect(await other.get('t-gitoid-bad@main/tokenizer.json')).toBeUndefined();
  });

  it('names the URL on a 404', async () => {
    hub.serveModel('t/404');
    hub.serve('t/404', 'onnx/text_model_quantized.onnx', randomBytes(10), { behaviour: { kind: 'missing' } });
    const err = await rejection(ensureModelStored(testSpec('t/404'), { backend: 'wasm', baseUrl: hub.base, store: new MemoryModelStore(), ...fast }));
    expect(err.code).toBe('not-found');
    expect(err.message).toContain(`${hub.base}/t/404/resolve/${hub.commitOf('t/404')}/onnx/text_model_quantized.onnx`);
    expect(err.url).toBe(`${hub.base}/t/404/resolve/${hub.commitOf('t/404')}/onnx/text_model_quantized.onnx`);
  });
});

describe('interrupted transfers', () => {
  it('resumes a dropped connection with a Range request', async () => {
    const served = hub.serveModel('t/drop', { vision: 400_000, text: 1000 });
    hub.serve('t/drop', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'drop-once', after: 150_000 } });
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();
    const got = await ensureAndRead(testSpec('t/drop'), { backend: 'wasm', baseUrl: hub.base, store, onProgress, ...fast, flushBytes: 64 * 1024 });
    expectBytes(got.vision.model, served.vision);

    const reqs = hub.requestsFor('onnx/vision_model.onnx');
    expect(reqs).toHaveLength(2);
    expect(reqs[0].range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(reqs[1].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(150_000);
    expect(reqs[1].status).toBe(206);
    const sent = reqs.reduce((n, r) => n + r.bytesSent, 0);
    expect(sent).toBeLessThan(2 * served.vision.length);
    expectMonotonic(events);
  });

  it('keeps received bytes across calls and resumes in the next one', async () => {
    const served = hub.serveModel('t/drop2', { vision: 400_000, text: 1000 });
    hub.serve('t/drop2', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'drop-once', after: 200_000 } });
    const store = new MemoryModelStore();
    const spec = testSpec('t/drop2');
    const err = await rejection(ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast, retries: 0, flushBytes: 32 * 1024 }));
    expect(err.code).toBe('network');
    expect(err.message).toMatch(/interrupted/);
    const partial = await store.getPartial('t-drop2@main/onnx/vision_model.onnx');
    const kept = partial!.chunks.reduce((n, c) => n + c.length, 0);
    expect(kept).toBeGreaterThan(0);
    expect(await store.get('t-drop2@main/onnx/vision_model.onnx')).toBeUndefined();

    const got = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expectBytes(got.vision.model, served.vision);
    const reqs = hub.requestsFor('onnx/vision_model.onnx');
    expect(reqs.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(await store.getPartial('t-drop2@main/onnx/vision_model.onnx')).toBeUndefined();
  });

  it('starts a file over when the server ignores Range', async () => {
    const served = hub.serveModel('t/norange', { vision: 300_000, text: 1000 });
    hub.serve('t/norange', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'ignore-range-drop-once', after: 100_000 } });
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();
    const got = await ensureAndRead(testSpec('t/norange'), { backend: 'wasm', baseUrl: hub.base, store, onProgress, ...fast, flushBytes: 16 * 1024 });
    expectBytes(got.vision.model, served.vision);
    const reqs = hub.requestsFor('onnx/vision_model.onnx');
    expect(reqs).toHaveLength(2);
    expect(reqs[1].range).toMatch(/^bytes=\d+-$/);
    expect(reqs[1].status).toBe(200);
    expectMonotonic(events);
  });

  it('aborts a stalled transfer with a clear error and keeps what arrived', async () => {
    const served = hub.serveModel('t/stall', { vision: 200_000, text: 1000 });
    hub.serve('t/stall', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'stall', at: 50_000 } });
    const store = new MemoryModelStore();
    const started = Date.now();
    const err = await rejection(
      ensureModelStored(testSpec('t/stall'), { backend: 'wasm', baseUrl: hub.base, store, stallTimeoutMs: 300, retries: 1, retryDelayMs: 10, flushBytes: 1024 }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.code).toBe('stalled');
    expect(err.message).toMatch(/stalled: no data .* for 0\.3 s/);
    expect(err.message).toContain('onnx/vision_model.onnx');
    // The retry asked for the rest of the file (and stalled again).
    const reqs = hub.requestsFor('onnx/vision_model.onnx');
    expect(reqs).toHaveLength(2);
    expect(reqs[1].range).toBe('bytes=50000-');
    expect(await store.get('t-stall@main/onnx/vision_model.onnx')).toBeUndefined();
    expect((await store.getPartial('t-stall@main/onnx/vision_model.onnx'))!.chunks.length).toBeGreaterThan(0);
  });

  it('reports an unreachable host as "cannot reach"', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await rejection(
      ensureModelStored(testSpec('t/offline'), { backend: 'wasm', baseUrl: `http://127.0.0.1:${port}`, store: new MemoryModelStore(), ...fast, retries: 0 }),
    );
    expect(err.code).toBe('network');
    expect(err.message).toMatch(new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port} `));
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('stops on abort, keeping the partial download', async () => {
    hub.serveModel('t/abort', { vision: 2_000_000, text: 1000 });
    const store = new MemoryModelStore();
    const ctrl = new AbortController();
    const p = ensureModelStored(testSpec('t/abort'), {
      backend: 'wasm',
      baseUrl: hub.base,
      store,
      ...fast,
      flushBytes: 1024,
      signal: ctrl.signal,
      onProgress: (e) => {
        if (e.file === 'onnx/vision_model.onnx' && e.fileLoaded > 0) ctrl.abort();
      },
    });
    const err = await p.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).toBe('AbortError');
    const partial = await store.getPartial('t-abort@main/onnx/vision_model.onnx');
    expect(partial!.chunks.length).toBeGreaterThan(0);
    expect(await store.get('t-abort@main/onnx/vision_model.onnx')).toBeUndefined();
  });
});
