// Model delivery against a local server speaking the Hugging Face layout
// (`/{repo}/resolve/{rev}/{path}` and `/api/models/{repo}/tree/{rev}/{dir}`), with switches for the
// failures real downloads meet: corrupt bytes, 404, dropped connections, servers ignoring Range,
// stalls, external-data files. Also the registry, the stores and the models:fetch script.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { fetchModel, parseArgs } from '../../scripts/fetch-model.ts';
import {
  type DownloadProgress,
  deleteModel,
  ensureModel,
  isModelStored,
  loadBundledModel,
  MemoryModelStore,
  ModelDownloadError,
  type ModelStore,
} from './download.ts';
import { gitBlobOid } from '../bytes.ts';
import { CacheStorageModelStore } from './model-store-cache.ts';
import { FsModelStore, loadModelFromDir } from './model-store-fs.ts';
import { DEFAULT_MODEL_ID, filesForBackend, getModel, MODELS, publicModels, requiredFiles, requireModel, withoutFp16Vision } from './registry.ts';
import type { ModelSpec } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Fake Hugging Face

type Behaviour =
  | { kind: 'ok' }
  | { kind: 'drop-once'; after: number } // first request: socket destroyed after `after` bytes
  | { kind: 'ignore-range-drop-once'; after: number } // as drop-once, and Range is never honoured
  | { kind: 'stall'; at: number } // sends bytes up to file offset `at`, then nothing (forever)
  | { kind: 'missing' }; // listed, but resolve answers 404

interface ServedFile {
  bytes: Uint8Array;
  /** Hash the listing claims; differs from the bytes for the corrupt case. */
  listedSha256?: string;
  /** Git blob id the listing claims for a non-LFS file (default: the real one). */
  listedGitOid?: string;
  /** Non-LFS files are listed with their git blob id instead of an LFS sha256. */
  lfs: boolean;
  behaviour: Behaviour;
}

interface RequestLog {
  url: string;
  range?: string;
  status: number;
  bytesSent: number;
}

const repos = new Map<string, Map<string, ServedFile>>(); // repo -> path -> file
const log: RequestLog[] = [];
/** Static files for the bundled-model test: url path -> bytes. */
const staticFiles = new Map<string, Uint8Array>();
let server: Server;
let base: string;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function gitOid(b: Uint8Array): string {
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
}

function serve(repo: string, path: string, data: Uint8Array, opts: Partial<Omit<ServedFile, 'bytes'>> = {}): Uint8Array {
  const bytes = new Uint8Array(data); // plain Uint8Array (not Buffer) so toEqual compares bytes only
  let files = repos.get(repo);
  if (!files) repos.set(repo, (files = new Map()));
  files.set(path, { ...opts, bytes, lfs: opts.lfs ?? true, behaviour: opts.behaviour ?? { kind: 'ok' } });
  return bytes;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url!, 'http://x');
  const entry: RequestLog = { url: url.pathname, range: req.headers.range, status: 0, bytesSent: 0 };
  log.push(entry);
  const send = (status: number, body: string | Uint8Array, headers: Record<string, string> = {}): void => {
    entry.status = status;
    entry.bytesSent += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    res.writeHead(status, headers).end(body);
  };

  const staticBody = staticFiles.get(url.pathname);
  if (staticBody) return send(200, staticBody);

  // Tree API: /api/models/{owner}/{name}/tree/{rev}[/{dir}]
  const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
  if (tree) {
    const files = repos.get(tree[1]);
    if (!files) return send(404, '{"error":"Repository not found"}');
    const dir = decodeURIComponent(tree[3] ?? '');
    const entries = [...files]
      .filter(([p]) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') === dir)
      .map(([p, f]) =>
        f.lfs
          ? { type: 'file', path: p, size: f.bytes.length, oid: 'ffff', lfs: { oid: f.listedSha256 ?? sha256(f.bytes), size: f.bytes.length } }
          : { type: 'file', path: p, size: f.bytes.length, oid: f.listedGitOid ?? gitOid(f.bytes) },
      );
    return send(200, JSON.stringify(entries), { 'content-type': 'application/json' });
  }

  // Like the Hub: LFS files redirect to a CDN URL; the Range header must survive the redirect.
  const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
  const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
  const repo = resolve?.[1] ?? cdn?.[1];
  const path = decodeURIComponent((resolve?.[3] ?? cdn?.[2]) || '');
  const file = repo ? repos.get(repo)?.get(path) : undefined;
  if (!file || file.behaviour.kind === 'missing') return send(404, 'Entry not found');
  if (resolve && file.lfs) {
    entry.status = 302;
    res.writeHead(302, { location: `/cdn/${repo}/${path}` }).end();
    return;
  }

  const b = file.behaviour;
  const attempt = log.filter((l) => l.url === url.pathname).length; // includes this one
  const honourRange = b.kind !== 'ignore-range-drop-once';
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && honourRange) start = Number(m[1]);
  if (start > file.bytes.length) return send(416, '');
  const body = file.bytes.subarray(start);
  const headers: Record<string, string> = {
    'content-length': String(body.length),
    'accept-ranges': honourRange ? 'bytes' : 'none',
    etag: `"${sha256(file.bytes)}"`,
  };
  if (start > 0) headers['content-range'] = `bytes ${start}-${file.bytes.length - 1}/${file.bytes.length}`;
  entry.status = start > 0 ? 206 : 200;
  res.writeHead(entry.status, headers);

  const cut =
    (b.kind === 'drop-once' || b.kind === 'ignore-range-drop-once') && attempt === 1
      ? b.after
      : b.kind === 'stall'
        ? Math.max(0, b.at - start)
        : undefined;
  if (cut === undefined) {
    entry.bytesSent += body.length;
    res.end(body);
    return;
  }
  const part = body.subarray(0, cut);
  entry.bytesSent += part.length;
  res.write(part, () => {
    // Give the bytes a moment to leave, then drop (or leave the stalled response hanging).
    if (b.kind !== 'stall') setTimeout(() => res.socket?.destroy(), 20);
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  repos.clear();
  staticFiles.clear();
  log.length = 0;
});

// ---------------------------------------------------------------------------------------------
// Helpers

function testSpec(repo: string, over: Partial<ModelSpec> = {}): ModelSpec {
  return {
    id: repo.replace('/', '-'),
    label: repo,
    repo,
    imageSize: 256,
    embedDim: 32,
    logitScale: 100,
    contextLength: 77,
    files: {
      vision: { wasm: 'onnx/vision_model.onnx', webgpu: 'onnx/vision_model_fp16.onnx' },
      text: { wasm: 'onnx/text_model_quantized.onnx', webgpu: 'onnx/text_model.onnx' },
      tokenizer: 'tokenizer.json',
    },
    ...over,
  };
}

/** Serves a complete model (wasm files) and returns its bytes. */
function serveModel(repo: string, sizes = { vision: 300_000, text: 120_000 }) {
  return {
    vision: serve(repo, 'onnx/vision_model.onnx', randomBytes(sizes.vision)),
    text: serve(repo, 'onnx/text_model_quantized.onnx', randomBytes(sizes.text)),
    tokenizer: serve(repo, 'tokenizer.json', new TextEncoder().encode('{"model":{"type":"BPE"}}'), { lfs: false }),
  };
}

function collect(): { events: DownloadProgress[]; onProgress: (p: DownloadProgress) => void } {
  const events: DownloadProgress[] = [];
  return { events, onProgress: (p) => events.push(structuredClone(p)) };
}

/** Overall and per-file progress never decreases; the last event has loaded === total. */
function expectMonotonic(events: DownloadProgress[]): void {
  expect(events.length).toBeGreaterThan(0);
  const perFile = new Map<string, number>();
  let loaded = 0;
  for (const e of events) {
    expect(e.loaded).toBeGreaterThanOrEqual(loaded);
    loaded = e.loaded;
    expect(e.fileLoaded).toBeGreaterThanOrEqual(perFile.get(e.file) ?? 0);
    perFile.set(e.file, e.fileLoaded);
    if (e.fileTotal !== undefined) expect(e.fileLoaded).toBeLessThanOrEqual(e.fileTotal);
    if (e.total !== undefined) expect(e.loaded).toBeLessThanOrEqual(e.total);
  }
  const last = events.at(-1)!;
  expect(last.total).toBeDefined();
  expect(last.loaded).toBe(last.total);
  expect(last.fileDone).toBe(true);
}

const fast = { retryDelayMs: 0, stallTimeoutMs: 2000 };

/** Byte equality without vitest's element-by-element diff (slow for big arrays). */
function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(actual!.length).toBe(expected.length);
  expect(Buffer.compare(actual!, expected)).toBe(0);
}

function requestsFor(path: string): RequestLog[] {
  return log.filter((l) => l.url.endsWith(path) && !l.url.startsWith('/api/') && l.status !== 302);
}

async function rejection(p: Promise<unknown>): Promise<ModelDownloadError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelDownloadError);
  return err as ModelDownloadError;
}

// ---------------------------------------------------------------------------------------------

describe('registry', () => {
  it('uses the fp32 vision file on WebGPU devices without fp16 shaders, and changes nothing else', () => {
    const s0 = requireModel('mobileclip-s0');
    expect(filesForBackend(s0, 'webgpu').vision).toBe('onnx/vision_model_fp16.onnx');
    const fp32 = withoutFp16Vision(s0);
    expect(filesForBackend(fp32, 'webgpu')).toEqual({ ...filesForBackend(s0, 'webgpu'), vision: 'onnx/vision_model.onnx' });
    expect(filesForBackend(fp32, 'wasm')).toEqual(filesForBackend(s0, 'wasm'));
    expect(fp32.id).toBe(s0.id); // same cache entries
  });

  it('has the MobileCLIP v1 and v2 variants plus the test-only fixture', () => {
    const ids = MODELS.map((m) => m.id);
    for (const id of ['mobileclip-s0', 'mobileclip-s1', 'mobileclip-s2', 'mobileclip-b', 'mobileclip-blt', 'mobileclip2-s0', 'mobileclip2-s2', 'mobileclip2-b', 'fixture']) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(getModel(DEFAULT_MODEL_ID)?.repo).toBe('Xenova/mobileclip_s0');
    expect(publicModels().some((m) => m.testOnly)).toBe(false);
    expect(publicModels().map((m) => m.id)).not.toContain('fixture');
    expect(getModel('nope')).toBeUndefined();
    expect(() => requireModel('nope')).toThrow(/unknown model 'nope'.*mobileclip-s0/);
  });

  it('describes each variant consistently', () => {
    for (const m of MODELS) {
      expect(m.contextLength).toBe(77);
      expect(m.logitScale).toBe(100);
      expect(m.mean === undefined).toBe(m.std === undefined);
      for (const b of ['wasm', 'webgpu'] as const) {
        expect(m.files.vision[b]).toMatch(/\.onnx$/);
        expect(m.files.text[b]).toMatch(/\.onnx$/);
      }
    }
    const size = (id: string) => requireModel(id).imageSize;
    expect([size('mobileclip-s0'), size('mobileclip-s1'), size('mobileclip-s2'), size('mobileclip2-s0'), size('mobileclip2-s2')]).toEqual([256, 256, 256, 256, 256]);
    expect([size('mobileclip-b'), size('mobileclip-blt'), size('mobileclip2-b')]).toEqual([224, 224, 224]);
    const fixture = requireModel('fixture');
    expect(fixture).toMatchObject({ repo: 'local/fixture', imageSize: 256, embedDim: 32, testOnly: true });
    expect(fixture.mean).toBeUndefined();
  });

  it('never gives WebGPU or WASM an int8 vision tower, and picks fp16 vision on WebGPU for v1', () => {
    for (const m of MODELS) {
      expect(m.files.vision.wasm).not.toMatch(/quant|int8|q8/);
      expect(m.files.vision.webgpu).not.toMatch(/quant|int8|q8/);
    }
    const s0 = requireModel('mobileclip-s0');
    expect(filesForBackend(s0, 'wasm')).toEqual({ vision: 'onnx/vision_model.onnx', text: 'onnx/text_model_quantized.onnx', tokenizer: 'tokenizer.json' });
    expect(filesForBackend(s0, 'webgpu')).toEqual({ vision: 'onnx/vision_model_fp16.onnx', text: 'onnx/text_model.onnx', tokenizer: 'tokenizer.json' });
    expect(requiredFiles(s0, ['wasm', 'webgpu'])).toHaveLength(5);
    expect(requiredFiles(requireModel('mobileclip2-s2'), ['wasm', 'webgpu'])).toEqual(['onnx/s2/vision_model.onnx', 'onnx/s2/text_model.onnx', 'tokenizer.json']);
  });
});

describe('ensureModel', () => {
  it('downloads, verifies and stores a model, then serves it from the store without network', async () => {
    const served = serveModel('t/good');
    const spec = testSpec('t/good');
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();

    const got = await ensureModel(spec, { backend: 'wasm', baseUrl: base, store, onProgress, ...fast });
    expectBytes(got.vision.model, served.vision);
    expect(got.vision.externalData).toBeUndefined();
    expectBytes(got.text.model, served.text);
    expectBytes(got.tokenizer, served.tokenizer);
    expectMonotonic(events);
    expect(events.at(-1)!.total).toBe(served.vision.length + served.text.length + served.tokenizer.length);
    // LFS downloads went through the redirect, as on the Hub.
    expect(log.some((l) => l.status === 302)).toBe(true);
    expect(await isModelStored(spec, 'wasm', { store })).toBe(true);
    expect(await isModelStored(spec, 'webgpu', { store })).toBe(false);

    const requestsBefore = log.length;
    const again = await ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast });
    expect(log.length).toBe(requestsBefore);
    expectBytes(again.vision.model, served.vision);

    await deleteModel(spec, { store });
    expect(await store.keys()).toEqual([]);
  });

  it('runs concurrent calls for one model one after the other, downloading once', async () => {
    const served = serveModel('t/concurrent');
    const spec = testSpec('t/concurrent');
    const store = new MemoryModelStore();
    const [a, b] = await Promise.all([
      ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast, flushBytes: 4096 }),
      ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast, flushBytes: 4096 }),
    ]);
    expectBytes(a.vision.model, served.vision);
    expectBytes(b.vision.model, served.vision);
    expect(requestsFor('onnx/vision_model.onnx')).toHaveLength(1);
  });

  it('rejects a file whose bytes do not match the listed SHA-256 and stores nothing of it', async () => {
    serveModel('t/corrupt');
    serve('t/corrupt', 'onnx/vision_model.onnx', randomBytes(50_000), { listedSha256: sha256(randomBytes(50_000)) });
    const store = new MemoryModelStore();
    const err = await rejection(ensureModel(testSpec('t/corrupt'), { backend: 'wasm', baseUrl: base, store, ...fast }));
    expect(err.code).toBe('integrity');
    expect(err.message).toContain('onnx/vision_model.onnx');
    expect(err.message).toMatch(/SHA-256/);
    const prefix = 't-corrupt@main/';
    expect(await store.get(`${prefix}onnx/vision_model.onnx`)).toBeUndefined();
    expect(await store.getPartial(`${prefix}onnx/vision_model.onnx`)).toBeUndefined();
    expect(await isModelStored(testSpec('t/corrupt'), 'wasm', { store })).toBe(false);
  });

  it('checks non-LFS files against their git blob id', async () => {
    serveModel('t/gitoid');
    const store = new MemoryModelStore();
    await ensureModel(testSpec('t/gitoid'), { backend: 'wasm', baseUrl: base, store, ...fast });
    const tok = (await store.get('t-gitoid@main/tokenizer.json'))!;
    expect(await gitBlobOid(tok)).toBe(gitOid(tok));

    serveModel('t/gitoid-bad');
    serve('t/gitoid-bad', 'tokenizer.json', new TextEncoder().encode('{"changed":1}'), {
      lfs: false,
      listedGitOid: gitOid(new TextEncoder().encode('{"changed":2}')),
    });
    const other = new MemoryModelStore();
    const err = await rejection(ensureModel(testSpec('t/gitoid-bad'), { backend: 'wasm', baseUrl: base, store: other, ...fast }));
    expect(err.code).toBe('integrity');
    expect(err.message).toMatch(/^tokenizer\.json failed verification \(git blob id/);
    expect(await other.get('t-gitoid-bad@main/tokenizer.json')).toBeUndefined();
  });

  it('names the URL on a 404', async () => {
    serveModel('t/404');
    serve('t/404', 'onnx/text_model_quantized.onnx', randomBytes(10), { behaviour: { kind: 'missing' } });
    const err = await rejection(ensureModel(testSpec('t/404'), { backend: 'wasm', baseUrl: base, store: new MemoryModelStore(), ...fast }));
    expect(err.code).toBe('not-found');
    expect(err.message).toContain(`${base}/t/404/resolve/main/onnx/text_model_quantized.onnx`);
    expect(err.url).toBe(`${base}/t/404/resolve/main/onnx/text_model_quantized.onnx`);
  });

  it('resumes a dropped connection with a Range request', async () => {
    const served = serveModel('t/drop', { vision: 400_000, text: 1000 });
    serve('t/drop', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'drop-once', after: 150_000 } });
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();
    const got = await ensureModel(testSpec('t/drop'), { backend: 'wasm', baseUrl: base, store, onProgress, ...fast, flushBytes: 64 * 1024 });
    expectBytes(got.vision.model, served.vision);

    const reqs = requestsFor('onnx/vision_model.onnx');
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
    const served = serveModel('t/drop2', { vision: 400_000, text: 1000 });
    serve('t/drop2', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'drop-once', after: 200_000 } });
    const store = new MemoryModelStore();
    const spec = testSpec('t/drop2');
    const err = await rejection(ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast, retries: 0, flushBytes: 32 * 1024 }));
    expect(err.code).toBe('network');
    expect(err.message).toMatch(/interrupted/);
    const partial = await store.getPartial('t-drop2@main/onnx/vision_model.onnx');
    const kept = partial!.chunks.reduce((n, c) => n + c.length, 0);
    expect(kept).toBeGreaterThan(0);
    expect(await store.get('t-drop2@main/onnx/vision_model.onnx')).toBeUndefined();

    const got = await ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast });
    expectBytes(got.vision.model, served.vision);
    const reqs = requestsFor('onnx/vision_model.onnx');
    expect(reqs.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(await store.getPartial('t-drop2@main/onnx/vision_model.onnx')).toBeUndefined();
  });

  it('starts a file over when the server ignores Range', async () => {
    const served = serveModel('t/norange', { vision: 300_000, text: 1000 });
    serve('t/norange', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'ignore-range-drop-once', after: 100_000 } });
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();
    const got = await ensureModel(testSpec('t/norange'), { backend: 'wasm', baseUrl: base, store, onProgress, ...fast, flushBytes: 16 * 1024 });
    expectBytes(got.vision.model, served.vision);
    const reqs = requestsFor('onnx/vision_model.onnx');
    expect(reqs).toHaveLength(2);
    expect(reqs[1].range).toMatch(/^bytes=\d+-$/);
    expect(reqs[1].status).toBe(200);
    expectMonotonic(events);
  });

  it('aborts a stalled transfer with a clear error and keeps what arrived', async () => {
    const served = serveModel('t/stall', { vision: 200_000, text: 1000 });
    serve('t/stall', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'stall', at: 50_000 } });
    const store = new MemoryModelStore();
    const started = Date.now();
    const err = await rejection(
      ensureModel(testSpec('t/stall'), { backend: 'wasm', baseUrl: base, store, stallTimeoutMs: 300, retries: 1, retryDelayMs: 10, flushBytes: 1024 }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.code).toBe('stalled');
    expect(err.message).toMatch(/stalled: no data .* for 0\.3 s/);
    expect(err.message).toContain('onnx/vision_model.onnx');
    // The retry asked for the rest of the file (and stalled again).
    const reqs = requestsFor('onnx/vision_model.onnx');
    expect(reqs).toHaveLength(2);
    expect(reqs[1].range).toBe('bytes=50000-');
    expect(await store.get('t-stall@main/onnx/vision_model.onnx')).toBeUndefined();
    expect((await store.getPartial('t-stall@main/onnx/vision_model.onnx'))!.chunks.length).toBeGreaterThan(0);
  });

  it('returns external-data files listed next to a graph', async () => {
    const served = serveModel('t/extdata');
    const visionData = serve('t/extdata', 'onnx/vision_model.onnx_data', randomBytes(70_000));
    const textData = serve('t/extdata', 'onnx/text_model_quantized.onnx.data', randomBytes(30_000));
    serve('t/extdata', 'onnx/unrelated.onnx_data', randomBytes(10)); // must not be fetched
    const store = new MemoryModelStore();
    const { events, onProgress } = collect();
    const spec = testSpec('t/extdata');
    const got = await ensureModel(spec, { backend: 'wasm', baseUrl: base, store, onProgress, ...fast });
    expectBytes(got.vision.model, served.vision);
    expect(got.vision.externalData?.map((e) => e.path)).toEqual(['vision_model.onnx_data']);
    expectBytes(got.vision.externalData![0].data, visionData);
    expect(got.text.externalData?.map((e) => e.path)).toEqual(['text_model_quantized.onnx.data']);
    expectBytes(got.text.externalData![0].data, textData);
    expect(requestsFor('unrelated.onnx_data')).toHaveLength(0);
    expectMonotonic(events);

    // From the store, without network, the external data comes back too.
    const n = log.length;
    const again = await ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast });
    expect(log.length).toBe(n);
    expect(again.vision.externalData?.map((e) => e.path)).toEqual(['vision_model.onnx_data']);
    expectBytes(again.vision.externalData![0].data, visionData);
  });

  it('reports an unreachable host as "cannot reach"', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await rejection(
      ensureModel(testSpec('t/offline'), { backend: 'wasm', baseUrl: `http://127.0.0.1:${port}`, store: new MemoryModelStore(), ...fast, retries: 0 }),
    );
    expect(err.code).toBe('network');
    expect(err.message).toMatch(new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port} `));
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('stops on abort, keeping the partial download', async () => {
    serveModel('t/abort', { vision: 2_000_000, text: 1000 });
    const store = new MemoryModelStore();
    const ctrl = new AbortController();
    const p = ensureModel(testSpec('t/abort'), {
      backend: 'wasm',
      baseUrl: base,
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

  it('works without a tree API, checking sizes from the headers', async () => {
    const served = serveModel('t/noapi');
    const store = new MemoryModelStore();
    // A fetch that answers 404 for the API, like a plain static mirror.
    const mirror: typeof fetch = (input, init) => {
      const url = String(input);
      return url.includes('/api/models/') ? Promise.resolve(new Response('no api', { status: 404 })) : fetch(input, init);
    };
    const { events, onProgress } = collect();
    const got = await ensureModel(testSpec('t/noapi'), { backend: 'wasm', baseUrl: base, store, onProgress, fetch: mirror, ...fast });
    expectBytes(got.text.model, served.text);
    expectMonotonic(events);
  });

  it('replaces a stored file when the repo publishes a new version', async () => {
    serveModel('t/update');
    const spec = testSpec('t/update');
    const store = new MemoryModelStore();
    await ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast });
    const newer = serve('t/update', 'onnx/vision_model.onnx', randomBytes(1234));
    await store.delete('t-update@main/manifest.json'); // forget the bookkeeping: forces the listing check
    const got = await ensureModel(spec, { backend: 'wasm', baseUrl: base, store, ...fast });
    expectBytes(got.vision.model, newer);
    // Unchanged files were not fetched again.
    expect(requestsFor('onnx/text_model_quantized.onnx')).toHaveLength(1);
  });
});

describe('stores', () => {
  async function roundTrip(store: ModelStore): Promise<void> {
    expect(await store.get('m@main/a/b.onnx')).toBeUndefined();
    await store.put('m@main/a/b.onnx', new Uint8Array([1, 2, 3]));
    expect(await store.get('m@main/a/b.onnx')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await store.getPartial('m@main/a/c.onnx')).toBeUndefined();
    await store.startPartial('m@main/a/c.onnx', 'sha256:x');
    await store.appendPartial('m@main/a/c.onnx', new Uint8Array([4, 5]));
    await store.appendPartial('m@main/a/c.onnx', new Uint8Array([6]));
    const p = (await store.getPartial('m@main/a/c.onnx'))!;
    expect(p.validator).toBe('sha256:x');
    expect(Buffer.concat(p.chunks)).toEqual(Buffer.from([4, 5, 6]));
    await store.startPartial('m@main/a/c.onnx', 'sha256:y'); // restart drops old chunks
    expect((await store.getPartial('m@main/a/c.onnx'))!.chunks.flatMap((c) => [...c])).toEqual([]);
    expect(await store.keys()).toEqual(['m@main/a/b.onnx']);
    await store.delete('m@main/a/c.onnx');
    expect(await store.getPartial('m@main/a/c.onnx')).toBeUndefined();
    await store.delete('m@main/a/b.onnx');
    expect(await store.keys()).toEqual([]);
  }

  it('MemoryModelStore', () => roundTrip(new MemoryModelStore()));

  it('FsModelStore, and it refuses keys escaping its root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fsstore-'));
    try {
      const store = new FsModelStore(dir);
      await roundTrip(store);
      await expect(store.put('../x', new Uint8Array(1))).rejects.toThrow(/invalid model store key/);
      await expect(store.get('a//b')).rejects.toThrow(/invalid model store key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('CacheStorageModelStore (on a minimal in-memory Cache Storage)', async () => {
    const caches = new FakeCacheStorage();
    await roundTrip(new CacheStorageModelStore('models', caches as unknown as CacheStorage));
    // And as the store of a real download with a resume.
    const served = serveModel('t/cachestore', { vision: 100_000, text: 500 });
    serve('t/cachestore', 'onnx/vision_model.onnx', served.vision, { behaviour: { kind: 'drop-once', after: 40_000 } });
    const store = new CacheStorageModelStore('models', caches as unknown as CacheStorage);
    const got = await ensureModel(testSpec('t/cachestore'), { backend: 'wasm', baseUrl: base, store, ...fast, flushBytes: 8 * 1024 });
    expectBytes(got.vision.model, served.vision);
    expect(requestsFor('onnx/vision_model.onnx')[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(await store.keys()).toEqual([
      't-cachestore@main/manifest.json',
      't-cachestore@main/onnx/text_model_quantized.onnx',
      't-cachestore@main/onnx/vision_model.onnx',
      't-cachestore@main/tokenizer.json',
    ]);
    // No partial chunks left behind.
    expect([...caches.entries()].some((u) => u.includes('?partial='))).toBe(false);
  });
});

describe('models:fetch and bundled models', () => {
  it('parses its command line', () => {
    expect(parseArgs(['mobileclip-s0'])).toMatchObject({ id: 'mobileclip-s0', backend: 'all', outDir: 'models' });
    expect(parseArgs(['fixture', '--base', 'http://h', '--backend', 'wasm', '--out', '/tmp/m'])).toMatchObject({
      id: 'fixture',
      baseUrl: 'http://h',
      backend: 'wasm',
      outDir: '/tmp/m',
    });
    expect(() => parseArgs([])).toThrow(/usage/);
    expect(() => parseArgs(['x', '--backend', 'cuda'])).toThrow(/wasm, webgpu or all/);
    expect(() => parseArgs(['x', '--bogus'])).toThrow(/unknown option/);
  });

  it('downloads a registry model into <out>/<id>/ and the result loads from disk and over HTTP', async () => {
    const fixture = requireModel('fixture');
    const vision = serve('local/fixture', 'onnx/vision_model.onnx', randomBytes(20_000));
    const text = serve('local/fixture', 'onnx/text_model.onnx', randomBytes(9_000));
    const bpe = serve('local/fixture', 'bpe_simple_vocab_16e6.txt.gz', randomBytes(3_000));
    const out = await mkdtemp(join(tmpdir(), 'fetch-model-'));
    try {
      const events: DownloadProgress[] = [];
      const result = await fetchModel({ id: 'fixture', baseUrl: base, backend: 'all', outDir: out, onProgress: (p) => events.push(p), ...fast });
      expect(result.dir).toBe(join(out, 'fixture'));
      expect(result.files.sort()).toEqual(['bpe_simple_vocab_16e6.txt.gz', 'onnx/text_model.onnx', 'onnx/vision_model.onnx']);
      expectBytes(new Uint8Array(await readFile(join(out, 'fixture/onnx/vision_model.onnx'))), vision);
      expect((await stat(join(out, 'fixture/manifest.json'))).isFile()).toBe(true);
      expectMonotonic(events);

      const fromDisk = await loadModelFromDir(fixture, join(out, 'fixture'), 'wasm');
      expectBytes(fromDisk.text.model, text);
      expectBytes(fromDisk.tokenizer, bpe);

      // Run again: everything is there, nothing is downloaded.
      const before = log.length;
      await fetchModel({ id: 'fixture', baseUrl: base, backend: 'all', outDir: out, ...fast });
      expect(log.filter((l, i) => i >= before && !l.url.startsWith('/api/'))).toHaveLength(0);

      // The same directory served as the extension would bundle it.
      for (const p of ['manifest.json', 'onnx/vision_model.onnx', 'onnx/text_model.onnx', 'bpe_simple_vocab_16e6.txt.gz']) {
        staticFiles.set(`/ext/models/fixture/${p}`, new Uint8Array(await readFile(join(out, 'fixture', p))));
      }
      const bundled = await loadBundledModel(fixture, `${base}/ext/models/`, 'webgpu');
      expectBytes(bundled.vision.model, vision);
      expect(bundled.vision.externalData).toBeUndefined();
      expectBytes(bundled.tokenizer, bpe);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('loads a bundled model without a manifest and names a missing file', async () => {
    const fixture = requireModel('fixture');
    staticFiles.set('/b/fixture/onnx/vision_model.onnx', new Uint8Array([1]));
    staticFiles.set('/b/fixture/onnx/text_model.onnx', new Uint8Array([2]));
    const err = await rejection(loadBundledModel(fixture, `${base}/b`, 'wasm'));
    expect(err.code).toBe('missing');
    expect(err.message).toContain('bpe_simple_vocab_16e6.txt.gz');
    staticFiles.set('/b/fixture/bpe_simple_vocab_16e6.txt.gz', new Uint8Array([3]));
    const got = await loadBundledModel(fixture, `${base}/b`, 'wasm');
    expect(got.text.model).toEqual(new Uint8Array([2]));
  });
});

// ---------------------------------------------------------------------------------------------

/** Just enough of CacheStorage/Cache for CacheStorageModelStore: exact-URL match/put/delete/keys. */
class FakeCacheStorage {
  private readonly caches = new Map<string, FakeCache>();
  async open(name: string): Promise<FakeCache> {
    let c = this.caches.get(name);
    if (!c) this.caches.set(name, (c = new FakeCache()));
    return c;
  }
  entries(): string[] {
    return [...this.caches.values()].flatMap((c) => c.urls());
  }
}

class FakeCache {
  private readonly map = new Map<string, { body: Uint8Array; headers: Headers }>();
  urls(): string[] {
    return [...this.map.keys()];
  }
  async match(req: string): Promise<Response | undefined> {
    const e = this.map.get(new URL(req).toString());
    return e && new Response(e.body.slice(), { headers: e.headers });
  }
  async put(req: string, res: Response): Promise<void> {
    const url = new URL(req);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('Cache.put: http(s) only');
    this.map.set(url.toString(), { body: new Uint8Array(await res.arrayBuffer()), headers: res.headers });
  }
  async delete(req: string): Promise<boolean> {
    return this.map.delete(new URL(req).toString());
  }
  async keys(): Promise<Request[]> {
    return [...this.map.keys()].map((u) => new Request(u));
  }
}
