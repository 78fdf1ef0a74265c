// One local web server for the page benchmark, on 127.0.0.1 (a secure context, so
// SharedArrayBuffer works once the page is cross-origin isolated):
//
//   /page/<k>.html           the generated test page k (images/page-<k>/*), no isolation headers
//   /img/<k>/<file>          its images
//   /blank.html              an empty page (image generation runs there)
//   /bare.html, /bare.js     the bare onnxruntime-web baseline page
//   /ort/<file>              onnxruntime-web's dist/ (the same build the extension bundles; cacheable)
//   /tf/<file>               @huggingface/transformers' dist/, when installed
//   /tf-ort/<file>           the onnxruntime-web build transformers.js pins (its WASM files)
//   /arch/<file>             the replicas as materialised (.onnx + external .bin)
//   /<repo>/resolve/main/... the model in the Hugging Face layout (transformers.js's remoteHost)
//   /upload/<path>           PUT: writes bytes under the cache (generated images and tensors)
//
// Everything but /page and /img is sent with COOP/COEP, so the baseline pages get WASM threads.
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { createRequire } from 'node:module';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
};

export interface BenchServerDirs {
  /** Generated images and tensors (page-<k>/ subfolders). */
  cache: string;
  /** HF-layout model repo and its name. */
  hfDir: string;
  repo: string;
  /** .cache/archmodels */
  arch: string;
}

export interface BenchServer {
  origin: string;
  close(): Promise<void>;
}

/** dist/ of an installed package, or undefined. */
export function packageDist(name: string): string | undefined {
  try {
    // Not `${name}/package.json`: packages with an exports map do not expose it.
    const entry = createRequire(import.meta.url).resolve(name);
    const marker = `node_modules${sep}${name.split('/').join(sep)}`;
    const at = entry.lastIndexOf(marker);
    const dist = at < 0 ? undefined : join(entry.slice(0, at + marker.length), 'dist');
    return dist && existsSync(dist) ? dist : undefined;
  } catch {
    return undefined;
  }
}

const STATIC = join(import.meta.dirname, 'static');

function inside(root: string, rel: string): string | undefined {
  const file = normalize(join(root, rel));
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : undefined;
}

export async function startBenchServer(dirs: BenchServerDirs): Promise<BenchServer> {
  const ort = packageDist('onnxruntime-web');
  if (!ort) throw new Error('onnxruntime-web is not installed');
  const tf = packageDist('@huggingface/transformers');
  // transformers.js pins its own onnxruntime-web build and loads that build's WASM files.
  const nestedOrt = tf && join(tf, '..', 'node_modules', 'onnxruntime-web', 'dist');
  const tfOrt = nestedOrt && existsSync(nestedOrt) ? nestedOrt : ort;
  const hfPrefix = `/${dirs.repo}/resolve/main/`;

  // onnxruntime-web's files may be kept in the HTTP cache: Chrome keeps the compiled code of a
  // WASM module only for a response it cached, and the later-start baseline needs that, as the
  // extension gets it for its packaged module. Everything else is fetched anew each time.
  const route = (path: string): { file?: string; isolated: boolean; cacheable?: boolean } => {
    let m: RegExpExecArray | null;
    if ((m = /^\/page\/(\d+)\.html$/.exec(path))) return { file: join(dirs.cache, `page-${m[1]}`, 'index.html'), isolated: false };
    if ((m = /^\/img\/(\d+)\/(.+)$/.exec(path))) return { file: inside(join(dirs.cache, `page-${m[1]}`), m[2]), isolated: false };
    if (path.startsWith('/ort/')) return { file: inside(ort, path.slice(5)), isolated: true, cacheable: true };
    if (path.startsWith('/arch/')) return { file: inside(dirs.arch, path.slice(6)), isolated: true };
    if (path.startsWith('/tf/') && tf) return { file: inside(tf, path.slice(4)), isolated: true };
    if (path.startsWith('/tf-ort/')) return { file: inside(tfOrt, path.slice(8)), isolated: true };
    if (path.startsWith(hfPrefix)) return { file: inside(dirs.hfDir, path.slice(hfPrefix.length)), isolated: true };
    return { file: inside(STATIC, path.slice(1)), isolated: true };
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (req.method === 'PUT' && path.startsWith('/upload/')) {
      const file = inside(dirs.cache, path.slice(8));
      if (!file) return void res.writeHead(403).end();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, Buffer.concat(chunks));
        res.writeHead(204).end();
      });
      return;
    }
    const { file, isolated, cacheable } = route(path);
    if (!file || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
    res.writeHead(200, {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': cacheable ? 'max-age=86400' : 'no-store',
      ...(isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    createReadStream(file).pipe(res);
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
      else res.destroy();
    }
  });
  const origin = await new Promise<string>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
  return {
    origin,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
