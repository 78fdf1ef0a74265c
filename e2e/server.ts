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
 *   /img/solid/<colour>.png?delay=<ms>  answered after <ms> (at most 10 s): a slow image host
 *   /img/etag/<colour>.png       the solid PNG with an ETag and Last-Modified; a matching
 *                                If-None-Match / If-Modified-Since gets 304 without a body. Every
 *                                request of this route is logged in `validatorLog` (see validatorRoute)
 *   /healthz                     "ok"
 *   /set-cookies                 sets lens_strict (SameSite=Strict), lens_lax (Lax) and lens_none
 *                                (None; Secure) on the host, for the request-privacy audit
 *   /generated/images.html?n=<count>  a page of <count> distinct small lazy <img>s (max 20,000) that
 *                                records its long tasks and long animation frames (window.__longTasks/__longFrames)
 *   /hostile/<name>[?to=extension]  the hostile-page corpus (see hostile-files.ts), logged like images
 *   /generated/page.html?meta=<policy>&img=<url>[&img=<url>|<referrerpolicy>][&late=<url>]  a page with an
 *                                optional <meta name=referrer> and the given images (`late` ones added after the load event)
 * Every response has Cache-Control: no-store. Every image request is logged (see TestServer.log).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { solidPng } from './png.ts';
import { serveHostile } from './hostile-files.ts';

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

/** One image request as the server saw it: what the browser (or the extension) sent along. */
export interface LoggedRequest {
  /** The server's own origin, e.g. http://127.0.0.1:41234 */
  server: string;
  /** Path and query. */
  url: string;
  cookie: string | null;
  referer: string | null;
  /** 'image' for the page's own <img> loads, 'empty' for fetch() (the extension's background). */
  dest: string | null;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function generatedPage(path: string, url: URL): string | null {
  if (path === '/generated/images.html') {
    const n = Math.min(20_000, Math.max(1, Number.parseInt(url.searchParams.get('n') ?? '100', 10) || 100));
    const imgs: string[] = [];
    // Distinct colours: no two images share bytes (or URLs).
    for (let i = 0; i < n; i++) imgs.push(`<img src="/img/solid/${(i * 2654435761 % 0xffffff >>> 0).toString(16).padStart(6, '0')}.png?w=48&amp;h=48&amp;i=${i}" width="48" height="48" loading="lazy" alt="">`);
    // Long tasks and long animation frames from the start, for e2e/long-tasks.test.ts.
    const observe = `<script>window.__longTasks=[];window.__longFrames=[];
new PerformanceObserver((l)=>{for(const e of l.getEntries())__longTasks.push({start:e.startTime,duration:e.duration})}).observe({type:'longtask',buffered:true});
try{new PerformanceObserver((l)=>{for(const e of l.getEntries())__longFrames.push({start:e.startTime,duration:e.duration,scripts:e.scripts.map((s)=>({url:s.sourceURL,invoker:s.invoker,duration:s.duration,forcedStyleAndLayout:s.forcedStyleAndLayoutDuration}))})}).observe({type:'long-animation-frame',buffered:true})}catch{}</script>`;
    return `<!doctype html><html><head><meta charset="utf-8"><title>${n} images</title>${observe}<style>img{margin:2px}</style></head><body>${imgs.join('')}</body></html>`;
  }
  if (path === '/generated/page.html') {
    const meta = url.searchParams.get('meta');
    const imgs = url.searchParams.getAll('img').map((spec) => {
      const [src, policy] = spec.split('|');
      const attr = policy ? ` referrerpolicy="${escapeHtml(policy)}"` : '';
      return `<img src="${escapeHtml(src)}"${attr} width="120" height="90" alt="">`;
    });
    const head = meta ? `<meta name="referrer" content="${escapeHtml(meta)}">` : '';
    // Images added once the page has loaded: one that never answers would otherwise hold the load event.
    const late = JSON.stringify(url.searchParams.getAll('late')).replace(/</g, '\\u003c');
    const addLate = `<script>addEventListener('load',()=>{for(const src of ${late}){const i=new Image(120,90);i.src=src;document.body.append(i)}})</script>`;
    return `<!doctype html><html><head><meta charset="utf-8">${head}<title>generated</title></head><body>${imgs.join('\n')}${addLate}</body></html>`;
  }
  return null;
}

async function handle(req: IncomingMessage, res: ServerResponse, self: string, log: LoggedRequest[]): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const path = decodeURIComponent(url.pathname);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
  const logRequest = () => {
    const header = (name: string) => (req.headers[name] as string | undefined) ?? null;
    log.push({ server: self, url: req.url ?? '', cookie: header('cookie'), referer: header('referer'), dest: header('sec-fetch-dest') });
  };
  if (path === '/healthz') return send(res, 200, 'text/plain', 'ok');
  if (path === '/set-cookies') {
    res.setHeader('Set-Cookie', ['lens_strict=1; Path=/; SameSite=Strict', 'lens_lax=1; Path=/; SameSite=Lax', 'lens_none=1; Path=/; SameSite=None; Secure']);
    return send(res, 200, 'text/html; charset=utf-8', '<!doctype html><title>cookies set</title>cookies set');
  }
  if (path.startsWith('/hostile/')) {
    logRequest();
    if (await serveHostile(path, url, req, res, send)) return;
  }
  const generated = generatedPage(path, url);
  if (generated !== null) return send(res, 200, MIME['.html'], generated);
  if (validatorRoute(req, res, url)) return;

  const img = /^\/img\/solid\/([A-Za-z0-9]+)\.(png|svg)$/.exec(path);
  if (img) {
    logRequest();
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
    const delay = Math.min(10_000, Number(url.searchParams.get('delay')) || 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
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
  /** Image requests both servers received, oldest first. */
  log: LoggedRequest[];
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const log: LoggedRequest[] = [];
  const selves: string[] = [];
  const make = (index: number): Server =>
    createServer((req, res) => {
      handle(req, res, selves[index], log).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain', String(err));
        else res.destroy();
      });
    });
  const a = make(0);
  const b = make(1);
  const [origin, crossOrigin] = await Promise.all([listen(a), listen(b)]);
  selves.push(origin, crossOrigin);
  return {
    origin,
    crossOrigin,
    log,
    close: async () => {
      await Promise.all([closeServer(a), closeServer(b)]);
    },
  };
}
