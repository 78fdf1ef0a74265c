// A static file server on 127.0.0.1 (random port) for pages that tests and benchmarks build
// themselves: each URL prefix maps to a directory; the first prefix that matches wins, so list
// '/' last. Nothing outside those directories is served. `headers` go with every file (a bench's
// cross-origin isolation, say).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

export function serveDirectories(roots: [prefix: string, dir: string][], types: Record<string, string>, headers: Record<string, string> = {}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const root = roots.find(([p]) => path.startsWith(p));
    const file = root && normalize(join(root[1], path.slice(root[0].length) || 'index.html'));
    if (!root || !file || !file.startsWith(root[1] + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': types[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': 'no-store',
      ...headers,
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}
