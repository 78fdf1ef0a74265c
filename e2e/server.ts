/**
 * Local test web server for the e2e tests.
 *
 * Two node:http servers on 127.0.0.1 with random ports: `origin` and `crossOrigin` serve the same
 * content but are different origins (different port), for cross-origin image cases.
 *
 * Routes (both servers):
 *   /<name>                      files from e2e/pages/ (e.g. /colors.html); `/` → colors.html
 *   /img/solid/<colour>.png      a solid-colour PNG generated in memory; ?w=&h= (default 160x120,
 *                                max 4096); <colour> is a name from COLOURS or a hex `rrggbb`
 *   /img/solid/<colour>.png?cors=1  adds Access-Control-Allow-Origin: * (otherwise no CORS header)
 *   /img/solid/<colour>.png?referer=<origin>  403 unless the Referer header's origin is <origin>
 *                                (hotlink protection, for the referrer-checked image case)
 *   /img/solid/<colour>.svg      the same as an SVG document (same query parameters)
 *   /img/solid/<colour>.png?once=<token>  served the first time only, 410 Gone afterwards (an
 *                                expiring signed URL: only the page that loaded it has the pixels)
 *   /img/etag/<colour>.png       the solid PNG with an ETag and Last-Modified; a matching
 *                                If-None-Match / If-Modified-Since gets 304 without a body. Every
 *                                request of this route is logged in `validatorLog` (see validatorRoute)
 *   /healthz                     "ok"
 * Every response has Cache-Control: no-store.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { solidPng } from './png.ts';

export const PAGES_DIR = fileURLToPath(new URL('./pages/', import.meta.url));

export const COLOURS: Readonly<Record<string, readonly [number, number, number]>> = {
  red: [255, 0, 0],
  green: [0, 160, 0],
  blue: [0, 0, 255],
  yellow: [255, 230, 0],
  black: [0, 0, 0],
  white: [255, 255, 255],
  orange: [255, 140, 0],
  purple: [128, 0, 160],
  pink: [255, 150, 200],
  brown: [130, 80, 30],
  grey: [128, 128, 128],
  gray: [128, 128, 128],
  cyan: [0, 220, 230],
};

/** Parses a colour name or a 6-digit hex (no '#') to RGB; undefined if unknown. */
export function parseColour(name: string): readonly [number, number, number] | undefined {
  const named = COLOURS[name.toLowerCase()];
  if (named) return named;
  const m = /^([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(name);
  if (!m) return undefined;
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const path = decodeURIComponent(url.pathname);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
  if (path === '/healthz') return send(res, 200, 'text/plain', 'ok');
  if (validatorRoute(req, res, url)) return;

  const img = /^\/img\/solid\/([A-Za-z0-9]+)\.(png|svg)$/.exec(path);
  if (img) {
    const rgb = parseColour(img[1]);
    if (!rgb) return send(res, 404, 'text/plain', `unknown colour ${img[1]}`);
    // Hotlink protection as image hosts do it: only pages of the named origin may show the image.
    const wantOrigin = url.searchParams.get('referer');
    if (wantOrigin !== null && refererOrigin(req) !== wantOrigin) return send(res, 403, 'text/plain', 'hotlinking not allowed');
    const once = url.searchParams.get('once');
    if (once !== null) {
      if (usedOnceTokens.has(once)) return send(res, 410, 'text/plain', 'this address has expired');
      usedOnceTokens.add(once);
    }
    const w = clampInt(url.searchParams.get('w'), 160);
    const h = clampInt(url.searchParams.get('h'), 120);
    const extra: Record<string, string> = url.searchParams.get('cors') === '1' ? { 'Access-Control-Allow-Origin': '*' } : {};
    if (img[2] === 'svg') return send(res, 200, MIME['.svg'], solidSvg(w, h, rgb), extra);
    return send(res, 200, 'image/png', solidPng(w, h, rgb), extra);
  }

  const rel = path === '/' ? 'colors.html' : path.slice(1);
  const file = normalize(join(PAGES_DIR, rel));
  if (!file.startsWith(PAGES_DIR.endsWith(sep) ? PAGES_DIR : PAGES_DIR + sep)) return send(res, 403, 'text/plain', 'forbidden');
  try {
    const body = await readFile(file);
    return send(res, 200, MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', body);
  } catch {
    return send(res, 404, 'text/plain', 'not found');
  }
}

export interface ValidatorLogEntry {
  path: string;
  status: 200 | 304;
  /** Image bytes sent (0 for 304). */
  bytes: number;
  conditional: boolean;
  /** Sec-Fetch-Dest: 'image' for the page's own <img> loads, 'empty' for the extension's fetch(). */
  dest: string;
}
/** Requests of /img/etag/ (both origins), oldest first; tests clear it with `validatorLog.length = 0`. */
export const validatorLog: ValidatorLogEntry[] = [];
const VALIDATOR_LAST_MODIFIED = 'Mon, 01 Jan 2024 00:00:00 GMT';

/** Images with HTTP validators, for revisits by conditional request. True when it answered. */
function validatorRoute(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const m = /^\/img\/etag\/([A-Za-z0-9]+)\.png$/.exec(url.pathname);
  if (!m) return false;
  const rgb = parseColour(m[1]);
  if (!rgb) {
    send(res, 404, 'text/plain', `unknown colour ${m[1]}`);
    return true;
  }
  const w = clampInt(url.searchParams.get('w'), 160);
  const h = clampInt(url.searchParams.get('h'), 120);
  const etag = `"${m[1]}-${w}x${h}"`;
  const validators = { ETag: etag, 'Last-Modified': VALIDATOR_LAST_MODIFIED };
  const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
  const unchanged = req.headers['if-none-match'] === etag || (req.headers['if-none-match'] === undefined && req.headers['if-modified-since'] === VALIDATOR_LAST_MODIFIED);
  const path = url.pathname + url.search;
  const dest = String(req.headers['sec-fetch-dest'] ?? '');
  if (unchanged) {
    validatorLog.push({ path, status: 304, bytes: 0, conditional, dest });
    res.writeHead(304, { 'Cache-Control': 'no-store', ...validators });
    res.end();
    return true;
  }
  const body = solidPng(w, h, rgb);
  validatorLog.push({ path, status: 200, bytes: body.length, conditional, dest });
  send(res, 200, 'image/png', body, validators);
  return true;
}

/** Tokens of ?once= URLs already served (by either origin). */
const usedOnceTokens = new Set<string>();

function refererOrigin(req: IncomingMessage): string | null {
  try {
    return new URL(req.headers.referer ?? '').origin;
  } catch {
    return null;
  }
}

function solidSvg(w: number, h: number, [r, g, b]: readonly [number, number, number]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="${w}" height="${h}" fill="rgb(${r},${g},${b})"/></svg>`;
}

function clampInt(v: string | null, dflt: number): number {
  const n = v === null ? dflt : Number.parseInt(v, 10);
  return Number.isFinite(n) ? Math.min(4096, Math.max(1, n)) : dflt;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export interface TestServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  origin: string;
  /** a second origin serving the same content (different port) */
  crossOrigin: string;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const make = (): Server =>
    createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain', String(err));
        else res.destroy();
      });
    });
  const a = make();
  const b = make();
  const [origin, crossOrigin] = await Promise.all([listen(a), listen(b)]);
  return {
    origin,
    crossOrigin,
    close: async () => {
      await Promise.all([closeServer(a), closeServer(b)]);
    },
  };
}
