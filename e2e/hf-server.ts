/**
 * A local stand-in for huggingface.co, for the model-download e2e tests: serves one directory as
 * one repo in the Hugging Face layout that src/engine/hub/ reads.
 *
 *   GET /api/models/{repo}/tree/{rev}[/{dir}]  JSON list of the directory: for each file
 *                                              { type: 'file', path, size, oid (git blob SHA-1),
 *                                              lfs: { oid (SHA-256), size, pointerSize } },
 *                                              and { type: 'directory', path } for sub-directories
 *   GET /api/models/{repo}/revision/{any}      { id, sha: {rev} }: every branch points to the served revision
 *   GET /{repo}/resolve/{rev}/{path}           the file (200, or 206 for `Range: bytes=N-[M]`,
 *                                              416 past the end); with `redirect` a 302 to
 *                                              /lfs/{sha256}/{path} first, as the real hub does
 *
 * No CORS headers on purpose: the extension reaches this origin through its host permission, and
 * the tests should fail if it ever started depending on CORS. Every response is `no-store` so the
 * browser's HTTP cache can never answer for the server (request counts stay meaningful).
 *
 * Switches (configure() at any time, they apply to the next request):
 *  - chunkBytes / chunkDelayMs: send bodies in pieces with a pause after each, so a download
 *    lasts long enough for progress to be seen;
 *  - interrupt: once, for one file, send the bytes up to `afterBytes`, optionally wait for
 *    release() (the test can look at the UI while the transfer is provably mid-file), then
 *    destroy the socket. Later requests, including Range requests, are served normally;
 *  - corrupt: paths served with one byte changed (same size, so only the SHA-256 can tell);
 *  - notFound: every request answers 404, like a wrong repo or mirror.
 * Every request is recorded (requests) with its Range header, status, bytes sent and outcome.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface HfServerConfig {
  notFound: boolean;
  corrupt: string[];
  chunkBytes: number;
  chunkDelayMs: number;
  redirect: boolean;
  interrupt: { path: string; afterBytes: number; hold: boolean } | null;
}

export interface HfFile {
  path: string;
  size: number;
  sha256: string;
  gitOid: string;
}

export interface HfRequest {
  kind: 'tree' | 'resolve' | 'lfs' | 'revision' | 'other';
  url: string;
  /** Repo-relative file path for resolve/lfs requests. */
  file?: string;
  range: string | null;
  status: number;
  /** Body bytes written. */
  sent: number;
  outcome: 'pending' | 'complete' | 'dropped' | 'client-closed';
}

export interface HfServer {
  origin: string;
  repo: string;
  revision: string;
  files: readonly HfFile[];
  requests: HfRequest[];
  configure(patch: Partial<HfServerConfig>): void;
  /** Resolves once the armed interruption has sent its bytes (and, with hold, is waiting). */
  interruptReached(): Promise<void>;
  /** Lets a held interruption go on to drop the connection. */
  release(): void;
  close(): Promise<void>;
}

const DEFAULTS: HfServerConfig = { notFound: false, corrupt: [], chunkBytes: 64 * 1024, chunkDelayMs: 0, redirect: false, interrupt: null };

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : d.isFile() ? [join(dir, d.name)] : [],
  );
}

function gitBlobOid(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export async function startHfServer(root: string, repo: string, revision = 'main', config: Partial<HfServerConfig> = {}): Promise<HfServer> {
  const data = new Map<string, Buffer>();
  for (const file of walk(root)) data.set(relative(root, file).split(sep).join('/'), readFileSync(file));
  const files: HfFile[] = [...data].map(([path, bytes]) => ({
    path,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    gitOid: gitBlobOid(bytes),
  }));
  const byPath = new Map(files.map((f) => [f.path, f]));

  let cfg: HfServerConfig = { ...DEFAULTS, ...config };
  const requests: HfRequest[] = [];
  let reached!: () => void;
  let reachedPromise = new Promise<void>((r) => (reached = r));
  let release!: () => void;
  let released = new Promise<void>((r) => (release = r));

  const resolvePrefix = `/${repo}/resolve/${revision}/`;
  const treePrefix = `/api/models/${repo}/tree/${revision}`;

  function listing(dir: string): object[] | undefined {
    const inDir = (p: string) => (dir === '' ? !p.includes('/') : p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'));
    const entries: object[] = files
      .filter((f) => inDir(f.path))
      .map((f) => ({ type: 'file', oid: f.gitOid, size: f.size, path: f.path, lfs: { oid: f.sha256, size: f.size, pointerSize: 134 } }));
    const subdirs = new Set(
      files.map((f) => f.path).filter((p) => p.startsWith(dir === '' ? '' : `${dir}/`)).map((p) => p.slice(dir === '' ? 0 : dir.length + 1).split('/')).filter((s) => s.length > 1).map((s) => s[0]),
    );
    for (const d of subdirs) entries.push({ type: 'directory', oid: '0'.repeat(40), size: 0, path: dir === '' ? d : `${dir}/${d}` });
    return entries.length > 0 ? entries : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, rec: HfRequest): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const head = (status: number, headers: Record<string, string | number> = {}): void => {
      rec.status = status;
      res.writeHead(status, { 'Cache-Control': 'no-store', ...headers });
    };
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      head(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
      rec.outcome = 'complete';
    };

    if (path.startsWith(`/api/models/${repo}/revision/`)) {
      rec.kind = 'revision';
      return json(200, { id: repo, sha: revision });
    }
    if (path === treePrefix || path.startsWith(`${treePrefix}/`)) rec.kind = 'tree';
    else if (path.startsWith(resolvePrefix)) rec.kind = 'resolve';
    else if (path.startsWith('/lfs/')) rec.kind = 'lfs';

    if (cfg.notFound) return json(404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });

    if (rec.kind === 'tree') {
      const entries = listing(path.slice(treePrefix.length + 1));
      return entries ? json(200, entries) : json(404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    }

    let file: string | undefined;
    if (rec.kind === 'resolve') file = path.slice(resolvePrefix.length);
    // /lfs/{sha256}/{path}: the "CDN" address a resolve URL redirects to.
    else if (rec.kind === 'lfs') file = /^\/lfs\/[0-9a-f]{64}\/(.+)$/.exec(path)?.[1];
    const meta = file === undefined ? undefined : byPath.get(file);
    if (!file || !meta) return json(404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    rec.file = file;

    if (rec.kind === 'resolve' && cfg.redirect) {
      head(302, { Location: `/lfs/${meta.sha256}/${file}`, 'Content-Length': 0, ETag: `"${meta.sha256}"`, 'X-Repo-Commit': '0'.repeat(40) });
      res.end();
      rec.outcome = 'complete';
      return;
    }

    let body = data.get(file)!;
    if (cfg.corrupt.includes(file)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const size = body.length;
    let start = 0;
    let end = size; // exclusive
    let status = 200;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"${meta.sha256}"` };
    const m = rec.range ? /^bytes=(\d+)-(\d*)$/.exec(rec.range.trim()) : null;
    if (m) {
      start = Number(m[1]);
      if (m[2]) end = Math.min(size, Number(m[2]) + 1);
      if (start >= size || start >= end) {
        head(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
        res.end();
        rec.outcome = 'complete';
        return;
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
    }
    head(status, { ...headers, 'Content-Length': end - start });
    if (req.method === 'HEAD') {
      res.end();
      rec.outcome = 'complete';
      return;
    }

    // One armed interruption, taken by the first request that would send its cut-off point.
    let cut: number | undefined;
    let hold = false;
    if (cfg.interrupt && cfg.interrupt.path === file && start < cfg.interrupt.afterBytes && cfg.interrupt.afterBytes < end) {
      cut = cfg.interrupt.afterBytes;
      hold = cfg.interrupt.hold;
      cfg = { ...cfg, interrupt: null };
    }

    let pos = start;
    while (pos < end) {
      if (res.destroyed || res.socket?.destroyed) {
        rec.outcome = 'client-closed';
        return;
      }
      let stop = Math.min(end, pos + Math.max(1, cfg.chunkBytes));
      if (cut !== undefined && stop > cut) stop = cut;
      const piece = body.subarray(pos, stop);
      // Wait until the piece is handed to the kernel: a drop must come after these bytes.
      const written = await new Promise<boolean>((resolveWrite) => {
        res.write(piece, (err) => resolveWrite(!err));
      });
      if (!written) {
        rec.outcome = 'client-closed';
        return;
      }
      rec.sent += piece.length;
      pos = stop;
      if (pos === cut) {
        reached();
        if (hold) await released;
        rec.outcome = 'dropped';
        res.socket?.destroy();
        return;
      }
      if (cfg.chunkDelayMs > 0 && pos < end) await new Promise((r) => setTimeout(r, cfg.chunkDelayMs));
    }
    res.end();
    rec.outcome = 'complete';
  }

  const server: Server = createServer((req, res) => {
    const rec: HfRequest = { kind: 'other', url: req.url ?? '', range: req.headers.range ?? null, status: 0, sent: 0, outcome: 'pending' };
    requests.push(rec);
    handle(req, res, rec).catch((err: unknown) => {
      if (!res.headersSent) {
        rec.status = 500;
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
      } else res.destroy();
    });
  });
  const origin = await new Promise<string>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });

  return {
    origin,
    repo,
    revision,
    files,
    requests,
    configure(patch) {
      cfg = { ...cfg, ...patch };
      if ('interrupt' in patch) {
        release(); // a response still held for an earlier interruption goes on
        reachedPromise = new Promise<void>((r) => (reached = r));
        released = new Promise<void>((r) => (release = r));
      }
    },
    interruptReached: () => reachedPromise,
    release: () => release(),
    close: () =>
      new Promise<void>((resolveClose) => {
        release(); // never leave a held response behind
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
