/**
 * The hostile-page corpus of e2e/hostile-pages.test.ts, made on the fly by the test server:
 * broken, misleading and oversized image files, each under /hostile/<name>.
 *
 *   truncated.png   the first half of a valid PNG
 *   corrupt.png     a PNG signature followed by garbage
 *   empty.png       zero bytes, served as image/png
 *   html.png        an HTML document served as image/png
 *   zero.png        a PNG whose header says 0x0 pixels
 *   404.png, 500.png  errors
 *   loop.png        a redirect to itself, forever
 *   script.svg      an SVG with a <script>, an external <image> and an external stylesheet
 *                   (their requests carry ?svgref=1, so the log shows whether anyone followed them)
 *   animated.gif    a 2-frame animated GIF (red, then blue)
 *   bomb.png        20000x20000 grey pixels in a PNG of a few hundred KB (a real decompression bomb)
 *   hang.png        never answers (the connection stays open until the server closes)
 *
 * With ?to=extension the page's own <img> load (Sec-Fetch-Dest: image) gets a valid PNG and only
 * the extension's fetch gets the hostile bytes: what the page shows is fine, what the extension
 * reads is not (a server telling them apart, or a file that changed in between).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createDeflate } from 'node:zlib';
import { chunk, crc32, solidPng } from './png.ts';

export const HOSTILE_FILES = ['truncated.png', 'corrupt.png', 'empty.png', 'html.png', 'zero.png', '404.png', '500.png', 'loop.png', 'script.svg', 'animated.gif', 'bomb.png', 'hang.png'] as const;
export type HostileFile = (typeof HOSTILE_FILES)[number];

export const BOMB_SIDE = 20_000;

type Send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra?: Record<string, string>) => void;

/** Serves /hostile/<name>; returns false for other paths. */
export async function serveHostile(path: string, url: URL, req: IncomingMessage, res: ServerResponse, send: Send): Promise<boolean> {
  const m = /^\/hostile\/([a-z0-9]+\.(?:png|svg|gif))$/.exec(path);
  if (!m) return false;
  const name = m[1] as HostileFile;
  if (!HOSTILE_FILES.includes(name)) return send(res, 404, 'text/plain', 'no such case'), true;
  if (url.searchParams.get('to') === 'extension' && req.headers['sec-fetch-dest'] === 'image') {
    // A colour of its own per case: equal bytes would be merged as copies of one image.
    const tint = HOSTILE_FILES.indexOf(name) * 20;
    return send(res, 200, 'image/png', solidPng(96, 96, [30 + tint, 140, 60])), true;
  }
  const self = `http://${req.headers.host}`;
  switch (name) {
    case 'truncated.png': {
      // Each address its own bytes: equal bytes would be merged as copies of one image.
      const whole = solidPng(200, 150, [200, 40, url.search.length % 256]);
      send(res, 200, 'image/png', whole.subarray(0, whole.length >> 1));
      break;
    }
    case 'corrupt.png':
      send(res, 200, 'image/png', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('this is not image data at all '.repeat(40))]));
      break;
    case 'empty.png':
      send(res, 200, 'image/png', Buffer.alloc(0));
      break;
    case 'html.png':
      send(res, 200, 'image/png', '<!doctype html><html><body><h1>Not found</h1><script>alert(1)</script></body></html>');
      break;
    case 'zero.png':
      send(res, 200, 'image/png', zeroSizePng());
      break;
    case '404.png':
      send(res, 404, 'text/plain', 'not found');
      break;
    case '500.png':
      send(res, 500, 'text/plain', 'internal error');
      break;
    case 'loop.png':
      res.writeHead(302, { Location: `/hostile/loop.png?${url.searchParams}`, 'Cache-Control': 'no-store' });
      res.end();
      break;
    case 'script.svg':
      send(res, 200, 'image/svg+xml', scriptSvg(self));
      break;
    case 'animated.gif':
      send(res, 200, 'image/gif', animatedGif());
      break;
    case 'bomb.png':
      send(res, 200, 'image/png', await bombPng());
      break;
    case 'hang.png':
      // Headers and body never come; the server's close ends the connection.
      break;
  }
  return true;
}

function scriptSvg(self: string): string {
  return `<?xml-stylesheet href="${self}/hostile/style.css?svgref=1"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="90" viewBox="0 0 120 90">
<script>fetch('${self}/img/solid/red.png?svgref=1&amp;from=script');document.title='svg script ran'</script>
<rect width="120" height="90" fill="rgb(250,200,0)"/>
<image href="${self}/img/solid/blue.png?svgref=1&amp;from=image" x="0" y="0" width="60" height="45"/>
<image xlink:href="${self}/img/solid/green.png?svgref=1&amp;from=xlink" x="60" y="45" width="60" height="45"/>
</svg>`;
}

/** IHDR of 0x0 (invalid by the PNG spec) with a valid CRC, an empty IDAT and IEND. */
function zeroSizePng(): Buffer {
  const whole = solidPng(1, 1, [0, 0, 0]);
  const copy = Buffer.from(whole);
  // IHDR data starts at 16: width (4 bytes), height (4 bytes); then recompute its CRC.
  copy.writeUInt32BE(0, 16);
  copy.writeUInt32BE(0, 20);
  copy.writeUInt32BE(crc32(copy.subarray(12, 29)), 29);
  return copy;
}

/**
 * A 16x16 two-frame GIF (red, then blue, looping). Each pixel is written after a clear code, so
 * the LZW codes stay 3 bits wide and no dictionary is needed.
 */
function animatedGif(): Buffer {
  const side = 16;
  const header = Buffer.from('GIF89a', 'latin1');
  const screen = Buffer.from([side, 0, side, 0, 0xf1, 0, 0]); // global colour table of 4 entries
  const palette = Buffer.from([255, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0]);
  const loop = Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'latin1'), 3, 1, 0, 0, 0]);
  const frame = (index: number) => {
    const control = Buffer.from([0x21, 0xf9, 4, 0, 50, 0, 0, 0]); // 0.5 s
    const descriptor = Buffer.from([0x2c, 0, 0, 0, 0, side, 0, side, 0, 0]);
    return Buffer.concat([control, descriptor, Buffer.from([2]), subBlocks(lzwPixels(index, side * side)), Buffer.from([0])]);
  };
  return Buffer.concat([header, screen, palette, loop, frame(0), frame(1), Buffer.from([0x3b])]);
}

function lzwPixels(colour: number, count: number): Buffer {
  const CLEAR = 4;
  const END = 5;
  const codes: number[] = [];
  for (let i = 0; i < count; i++) codes.push(CLEAR, colour);
  codes.push(END);
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const code of codes) {
    acc |= code << bits;
    bits += 3;
    while (bits >= 8) {
      out.push(acc & 0xff);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out.push(acc & 0xff);
  return Buffer.from(out);
}

function subBlocks(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const block = data.subarray(i, i + 255);
    parts.push(Buffer.from([block.length]), block);
  }
  return Buffer.concat(parts);
}

let bomb: Promise<Buffer> | undefined;

/** 8-bit grey, BOMB_SIDE² pixels of zeros: 400 MB of scanlines that deflate to a few hundred KB (made once, streamed through zlib). */
function bombPng(): Promise<Buffer> {
  bomb ??= new Promise<Buffer>((resolve, reject) => {
    const deflate = createDeflate({ level: 9 });
    const parts: Buffer[] = [];
    deflate.on('data', (d: Buffer) => parts.push(d));
    deflate.on('error', reject);
    deflate.on('end', () => {
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(BOMB_SIDE, 0);
      ihdr.writeUInt32BE(BOMB_SIDE, 4);
      ihdr[8] = 8;
      ihdr[9] = 0; // greyscale
      resolve(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', Buffer.alloc(0))]));
    });
    const row = Buffer.alloc(BOMB_SIDE + 1); // filter byte 0, then grey 0
    let y = 0;
    const write = () => {
      while (y < BOMB_SIDE) {
        y++;
        if (!deflate.write(row)) return void deflate.once('drain', write);
      }
      deflate.end();
    };
    write();
  });
  return bomb;
}
