// Test support for the hub modules (imported by their *.test.ts only): a local server speaking
// the Hugging Face layout (`/{repo}/resolve/{rev}/{path}`, `/api/models/{repo}/tree/{rev}/{dir}`
// and `/api/models/{repo}/revision/{rev}`),
// with switches for the failures real downloads meet: corrupt bytes, 404, dropped connections,
// servers ignoring Range, stalls. Plus the assertions the download tests share.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, beforeEach, expect } from 'vitest';

import type { ModelSpec } from '../types.ts';
import { ensureModelStored, type EnsureModelOptions, ModelDownloadError, type ModelFiles, readStoredModel } from './model-files.ts';
import type { DownloadProgress } from './options.ts';

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

export interface RequestLog {
  url: string;
  range?: string;
  status: number;
  bytesSent: number;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function gitOid(b: Uint8Array): string {
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
}

export class FakeHub {
  private readonly repos = new Map<string, Map<string, ServedFile>>(); // repo -> path -> file
  /** Commits the branch has moved through, per repo (see moveBranch). */
  private readonly branchMoves = new Map<string, number>();
  readonly log: RequestLog[] = [];
  /** Static files for the bundled-model tests: url path -> bytes. */
  readonly staticFiles = new Map<string, Uint8Array>();
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    const server = (this.server = createServer((req, res) => this.handle(req, res)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }

  reset(): void {
    this.repos.clear();
    this.branchMoves.clear();
    this.staticFiles.clear();
    this.log.length = 0;
  }

  serve(repo: string, path: string, data: Uint8Array, opts: Partial<Omit<ServedFile, 'bytes'>> = {}): Uint8Array {
    const bytes = new Uint8Array(data); // plain Uint8Array (not Buffer) so toEqual compares bytes only
    let files = this.repos.get(repo);
    if (!files) this.repos.set(repo, (files = new Map()));
    files.set(path, { ...opts, bytes, lfs: opts.lfs ?? true, behaviour: opts.behaviour ?? { kind: 'ok' } });
    return bytes;
  }

  /** Serves a complete model (the wasm files of `testSpec`) and returns its bytes. */
  serveModel(repo: string, sizes = { vision: 300_000, text: 120_000 }) {
    return {
      vision: this.serve(repo, 'onnx/vision_model.onnx', randomBytes(sizes.vision)),
      text: this.serve(repo, 'onnx/text_model_quantized.onnx', randomBytes(sizes.text)),
      tokenizer: this.serve(repo, 'tokenizer.json', new TextEncoder().encode('{"model":{"type":"BPE"}}'), { lfs: false }),
    };
  }

  /** The commit `main` points to, as the revision API reports it (every revision serves the current files). */
  commitOf(repo: string): string {
    return createHash('sha1').update(`${repo}#${this.branchMoves.get(repo) ?? 0}`).digest('hex');
  }

  /** Upstream publishes a new commit on `main`. */
  moveBranch(repo: string): void {
    this.branchMoves.set(repo, (this.branchMoves.get(repo) ?? 0) + 1);
  }

  /** Requests for a file's bytes (no listings, no redirects). */
  requestsFor(path: string): RequestLog[] {
    return this.log.filter((l) => l.url.endsWith(path) && !l.url.startsWith('/api/') && l.status !== 302);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url!, 'http://x');
    const entry: RequestLog = { url: url.pathname, range: req.headers.range, status: 0, bytesSent: 0 };
    this.log.push(entry);
    const send = (status: number, body: string | Uint8Array, headers: Record<string, string> = {}): void => {
      entry.status = status;
      entry.bytesSent += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      res.writeHead(status, headers).end(body);
    };

    const staticBody = this.staticFiles.get(url.pathname);
    if (staticBody) return send(200, staticBody);

    // Revision API: /api/models/{owner}/{name}/revision/{rev} → the commit it points to.
    const revision = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (revision) {
      if (!this.repos.has(revision[1])) return send(404, '{"error":"Repository not found"}');
      return send(200, JSON.stringify({ id: revision[1], sha: this.commitOf(revision[1]) }), { 'content-type': 'application/json' });
    }

    // Tree API: /api/models/{owner}/{name}/tree/{rev}[/{dir}]
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    if (tree) {
      const files = this.repos.get(tree[1]);
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
    const file = repo ? this.repos.get(repo)?.get(path) : undefined;
    if (!file || file.behaviour.kind === 'missing') return send(404, 'Entry not found');
    if (resolve && file.lfs) {
      entry.status = 302;
      res.writeHead(302, { location: `/cdn/${repo}/${path}` }).end();
      return;
    }

    const b = file.behaviour;
    const attempt = this.log.filter((l) => l.url === url.pathname).length; // includes this one
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
}

/** A FakeHub running for the calling test file, emptied before each test. */
export function useFakeHub(): FakeHub {
  const hub = new FakeHub();
  beforeAll(() => hub.start());
  afterAll(() => hub.stop());
  beforeEach(() => hub.reset());
  return hub;
}

export function testSpec(repo: string, over: Partial<ModelSpec> = {}): ModelSpec {
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

/** Stores the model, then reads it back: what the engine host does. */
export async function ensureAndRead(spec: ModelSpec, options: EnsureModelOptions): Promise<ModelFiles> {
  await ensureModelStored(spec, options);
  return readStoredModel(spec, options.backend, options);
}

/** Short retry and stall times, so failure tests run fast. */
export const fast = { retryDelayMs: 0, stallTimeoutMs: 2000 };

export function collect(): { events: DownloadProgress[]; onProgress: (p: DownloadProgress) => void } {
  const events: DownloadProgress[] = [];
  return { events, onProgress: (p) => events.push(structuredClone(p)) };
}

/** Overall and per-file progress never decreases; the last event has loaded === total. */
export function expectMonotonic(events: DownloadProgress[]): void {
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

/** Byte equality without vitest's element-by-element diff (slow for big arrays). */
export function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(actual!.length).toBe(expected.length);
  expect(Buffer.compare(actual!, expected)).toBe(0);
}

export async function rejection(p: Promise<unknown>): Promise<ModelDownloadError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelDownloadError);
  return err as ModelDownloadError;
}
