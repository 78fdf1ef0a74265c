// The public entry points: storing a model, reading it back without network, one download at a
// time per model and store, and refusing files changed upstream (registry pins, trust on first use).

import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { collect, ensureAndRead, expectBytes, expectMonotonic, fast, rejection, sha256, testSpec, useFakeHub } from './fake-hub.ts';
import { deleteModel, ensureModelStored, isModelStored, readStoredFile, readStoredModel, readStoredTextFirst } from './model-files.ts';
import { MemoryModelStore } from './store.ts';
import { TRUST_FILE } from './trust.ts';

const hub = useFakeHub();

describe('ensureModelStored and readStoredModel', () => {
  it('downloads, verifies and stores a model, then serves it from the store without network', async () => {
    const served = hub.serveModel('t/good');
    const spec = testSpec('t/good');
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();

    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, onProgress, ...fast });
    const got = await readStoredModel(spec, 'wasm', { store });
    expectBytes(got.vision.model, served.vision);
    expect(got.vision.externalData).toBeUndefined();
    expectBytes(got.text.model, served.text);
    expectBytes(got.tokenizer, served.tokenizer);
    expectMonotonic(events);
    expect(events.at(-1)!.total).toBe(served.vision.length + served.text.length + served.tokenizer.length);
    // LFS downloads went through the redirect, as on the Hub.
    expect(hub.log.some((l) => l.status === 302)).toBe(true);
    expect(await isModelStored(spec, 'wasm', { store })).toBe(true);
    expect(await isModelStored(spec, 'webgpu', { store })).toBe(false);

    const requestsBefore = hub.log.length;
    const again = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expect(hub.log.length).toBe(requestsBefore);
    expectBytes(again.vision.model, served.vision);

    // One file alone (the tokenizer a context needs without the graphs), also without network.
    expectBytes(await readStoredFile(spec, spec.files.tokenizer, { store }), served.tokenizer);
    expect(hub.log.length).toBe(requestsBefore);

    // Deleting the files keeps the record of which upstream version was trusted (trust.ts).
    await deleteModel(spec, { store });
    expect(await store.keys()).toEqual([`t-good@main/${TRUST_FILE}`]);
    expect((await rejection(readStoredFile(spec, spec.files.tokenizer, { store }))).code).toBe('missing');
  });

  it('reads only what is stored: a model never stored, or one whose file changed size, is an error', async () => {
    const served = hub.serveModel('t/unstored');
    const spec = testSpec('t/unstored');
    const store = new MemoryModelStore();
    const err = await rejection(readStoredModel(spec, 'wasm', { store }));
    expect(err.code).toBe('missing');
    expect(err.message).toBe('t/unstored is not in the model cache');
    expect(hub.log).toHaveLength(0); // reading never downloads

    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    await store.put('t-unstored@main/onnx/text_model_quantized.onnx', served.text.subarray(1));
    expect(await isModelStored(spec, 'wasm', { store })).toBe(false);
    expect((await rejection(readStoredModel(spec, 'wasm', { store }))).code).toBe('missing');
    // ensureModelStored notices the same and fetches the file again.
    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expectBytes((await readStoredModel(spec, 'wasm', { store })).text.model, served.text);
    expect(hub.requestsFor('onnx/text_model_quantized.onnx')).toHaveLength(2);
  });

  it('text first: reads the text tower\'s files, the vision graph only when asked for, each under the lock', async () => {
    const served = hub.serveModel('t/text-first');
    const spec = testSpec('t/text-first');
    const store = new GatedStore();
    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    let release!: () => void;
    store.gate = { path: spec.files.vision.wasm, open: new Promise<void>((r) => (release = r)) };
    store.asked.length = 0;
    const files = await readStoredTextFirst(spec, 'wasm', { store });
    expectBytes(files.text.model, served.text);
    expectBytes(files.tokenizer, served.tokenizer);
    expect(store.asked.some((key) => key.endsWith(spec.files.vision.wasm))).toBe(false);
    // Another read of the model waits while the vision graph is read: a download could otherwise replace it.
    const vision = files.vision();
    await new Promise((r) => setTimeout(r, 10));
    let otherDone = false;
    const other = readStoredModel(spec, 'wasm', { store }).then(() => (otherDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(otherDone).toBe(false);
    store.gate = null;
    release();
    expectBytes((await vision).model, served.vision);
    await other;
    // A model deleted meanwhile is missing, as for the other files.
    await deleteModel(spec, { store });
    expect((await rejection(files.vision())).code).toBe('missing');
  });

  it('runs concurrent calls for one model one after the other, downloading once', async () => {
    const served = hub.serveModel('t/concurrent');
    const spec = testSpec('t/concurrent');
    const store = new MemoryModelStore();
    const [a, b] = await Promise.all([
      ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast, flushBytes: 4096 }),
      ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast, flushBytes: 4096 }),
    ]);
    expectBytes(a.vision.model, served.vision);
    expectBytes(b.vision.model, served.vision);
    expect(hub.requestsFor('onnx/vision_model.onnx')).toHaveLength(1);
  });

  it('trusts an unpinned model on first use: later downloads ask for that commit and refuse a file changed upstream', async () => {
    const served = hub.serveModel('t/update');
    const spec = testSpec('t/update');
    const store = new MemoryModelStore();
    const firstCommit = hub.commitOf('t/update');
    await ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expect(hub.log.some((l) => l.url === `/t/update/resolve/${firstCommit}/onnx/vision_model.onnx`)).toBe(true);
    const record = JSON.parse(new TextDecoder().decode((await store.get(`t-update@main/${TRUST_FILE}`))!));
    expect(record).toMatchObject({ repo: 't/update', revision: firstCommit });
    expect(record.files['onnx/vision_model.onnx']).toEqual({ size: served.vision.length, sha256: sha256(served.vision) });
    expect(record.files['tokenizer.json']).toEqual({ size: served.tokenizer.length, sha256: sha256(served.tokenizer) });

    // Upstream moves on with a new vision file; the stored copy is gone, so it is fetched again.
    hub.moveBranch('t/update');
    const newer = hub.serve('t/update', 'onnx/vision_model.onnx', randomBytes(1234));
    await store.delete('t-update@main/onnx/vision_model.onnx');
    hub.log.length = 0;
    const err = await rejection(ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast }));
    expect(err.code).toBe('integrity');
    expect(err.file).toBe('onnx/vision_model.onnx');
    expect(err.message).toContain('model file changed upstream: onnx/vision_model.onnx');
    expect(err.message).toContain(`expected ${sha256(served.vision)}`);
    expect(err.message).toContain(`first downloaded`);
    // Still the first commit, without asking where main points now.
    expect(hub.log.some((l) => l.url.includes('/revision/'))).toBe(false);
    expect(hub.log.every((l) => !l.url.includes('/resolve/') || l.url.includes(firstCommit))).toBe(true);
    expect(await store.get('t-update@main/onnx/vision_model.onnx')).toBeUndefined();

    // Taking the new version is a deliberate choice: an explicit revision.
    const got = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, revision: 'main', ...fast });
    expectBytes(got.vision.model, newer);
  });

  it('downloads a pinned entry at its commit and refuses any file that is not the pinned one', async () => {
    const served = hub.serveModel('t/pinned');
    const commit = 'c0ffee'.padEnd(40, '0');
    const pin = (b: Uint8Array) => ({ size: b.length, sha256: sha256(b) });
    const files = { 'onnx/vision_model.onnx': pin(served.vision), 'onnx/text_model_quantized.onnx': pin(served.text), 'tokenizer.json': pin(served.tokenizer) };
    const spec = testSpec('t/pinned', { source: { revision: commit, files } });
    const store = new MemoryModelStore();
    const got = await ensureAndRead(spec, { backend: 'wasm', baseUrl: hub.base, store, ...fast });
    expectBytes(got.text.model, served.text);
    expect(hub.requestsFor('tokenizer.json')[0].url).toBe(`/t/pinned/resolve/${commit}/tokenizer.json`);
    expect(hub.log.some((l) => l.url.includes('/revision/'))).toBe(false);
    expect(await store.keys()).not.toContain(`t-pinned@${commit}/${TRUST_FILE}`);

    // The host lists another file: refused before its bytes are fetched.
    const other = new MemoryModelStore();
    hub.serve('t/pinned', 'onnx/text_model_quantized.onnx', randomBytes(served.text.length));
    hub.log.length = 0;
    let err = await rejection(ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store: other, ...fast }));
    expect(err.message).toMatch(/^model file changed upstream: onnx\/text_model_quantized\.onnx has SHA-256 [0-9a-f]{64} in the host's listing/);
    expect(err.message).toContain(`the registry's pin for t/pinned@${commit}`);
    expect(hub.requestsFor('onnx/text_model_quantized.onnx')).toHaveLength(0);

    // A listing that still claims the pinned hash does not help: the bytes are checked.
    hub.serve('t/pinned', 'onnx/text_model_quantized.onnx', randomBytes(served.text.length), { listedSha256: sha256(served.text) });
    err = await rejection(ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store: other, ...fast }));
    expect(err.message).toMatch(/^model file changed upstream: onnx\/text_model_quantized\.onnx has SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
    expect(await other.get(`t-pinned@${commit}/onnx/text_model_quantized.onnx`)).toBeUndefined();
    expect(await other.getPartial(`t-pinned@${commit}/onnx/text_model_quantized.onnx`)).toBeUndefined();
  });

  it('refuses a pinned file announced at another size, from the response headers alone (no listing)', async () => {
    const vision = randomBytes(5_000);
    const spec = testSpec('t/pin-size', {
      source: { revision: 'a'.repeat(40), files: { 'onnx/vision_model.onnx': { size: 4_000, sha256: sha256(vision) } } },
    });
    const store = new MemoryModelStore();
    const noListing = (async (input: RequestInfo | URL, init?: RequestInit) =>
      String(input).includes('/api/') ? new Response('nope', { status: 404 }) : fetch(input, init)) as typeof fetch;
    hub.serveModel('t/pin-size');
    hub.serve('t/pin-size', 'onnx/vision_model.onnx', vision);
    const err = await rejection(ensureModelStored(spec, { backend: 'wasm', baseUrl: hub.base, store, fetch: noListing, ...fast }));
    expect(err.message).toContain('model file changed upstream: onnx/vision_model.onnx has size 5000 bytes, expected 4000');
    expect(await store.keys()).toEqual([]);
  });
});

/** A store whose read of one file waits until `gate.open` resolves. */
class GatedStore extends MemoryModelStore {
  gate: { path: string; open: Promise<void> } | null = null;
  readonly asked: string[] = [];

  override async get(key: string): Promise<Uint8Array | undefined> {
    this.asked.push(key);
    const gate = this.gate;
    if (gate && key.endsWith(`/${gate.path}`)) await gate.open;
    return super.get(key);
  }
}
