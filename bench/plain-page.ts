// What the picture benches (prepare-stages, page-pixels) share: bench:page's generated pictures,
// a plain page of the bench's own (no extension) in Chromium or Firefox with one function on its
// window to call, and a table of timings (their spread: cli.ts).
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { build } from 'vite';
import { CHROMIUM_PATH, findFirefox } from '../e2e/browsers.ts';
import { spread } from './cli.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** bench:page's first page of pictures (JPEG/PNG/WebP, 200-3000 px). */
export const PICTURES = join(ROOT, '.cache/bench-page/images/page-0');

/**
 * Up to `count` of bench:page's pictures (file names in PICTURES), or undefined with the reason
 * printed: skipped, not failed, so that `npm run bench` on a fresh checkout runs the others.
 */
export function benchPictures(bench: string, count: number): string[] | undefined {
  if (!existsSync(PICTURES)) {
    console.log(`${bench}: skipped, no pictures in ${PICTURES} (\`npm run bench:page -- --runs 1\` generates them)`);
    return undefined;
  }
  return readdirSync(PICTURES)
    .filter((f) => /\.(jpg|png|webp)$/.test(f))
    .sort()
    .slice(0, count);
}

/** Bundles a bench's page scripts (`name: source`, each to `<name>.js`) into `outDir`, with `html` as its index.html. */
export async function bundlePage(entries: Record<string, string>, outDir: string, html: string): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      lib: { entry: entries, formats: ['es'], fileName: (_format, name) => `${name}.js` },
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
    },
  });
  writeFileSync(join(outDir, 'index.html'), html);
}

export interface PlainPage {
  /** `window[name](arg)` in the page, awaited. */
  call<R>(arg: unknown): Promise<R>;
  close(): Promise<void>;
}

/** `browser` ('chromium' or 'firefox') with `url` open, once the page has put `name` on its window; undefined when Firefox is not installed. */
export async function openPlainPage(browser: string, url: string, name: string): Promise<PlainPage | undefined> {
  const ready = (fn: string) => typeof (window as unknown as Record<string, unknown>)[fn] === 'function';
  const call = (a: { fn: string; arg: unknown }) => (window as unknown as Record<string, (x: unknown) => Promise<unknown>>)[a.fn](a.arg);
  if (browser === 'chromium') {
    const instance = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'] });
    const page = await instance.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.waitForFunction(ready, name);
    return { call: (arg) => page.evaluate(call, { fn: name, arg }) as Promise<never>, close: () => instance.close() };
  }
  const executablePath = findFirefox();
  if (!executablePath) {
    console.log('Firefox: skipped (not installed)');
    return undefined;
  }
  const instance = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true });
  const page = await instance.newPage();
  await page.goto(url);
  await page.waitForFunction(ready, {}, name);
  return { call: (arg) => page.evaluate(call, { fn: name, arg }) as Promise<never>, close: () => instance.close() };
}

/** `fn` with the page open in each of `browsers` in turn (see openPlainPage), each under its own heading. */
export async function inEachBrowser(browsers: string[], url: string, name: string, fn: (page: PlainPage) => Promise<void>): Promise<void> {
  for (const browser of browsers) {
    const page = await openPlainPage(browser, url, name);
    if (!page) continue;
    try {
      console.log(`\n=== ${browser}`);
      await fn(page);
    } finally {
      await page.close();
    }
  }
}

/** A table of timings: one row per column of `records` (its name, then median, p90, max and sum in ms), under a header. */
export function printSpreads<T>(records: T[], rows: [name: string, of: (record: T) => number][], width = 42): void {
  const ms = (x: number) => x.toFixed(1).padStart(8);
  console.log(`${'stage'.padEnd(width)}${'median'.padStart(8)}${'p90'.padStart(8)}${'max'.padStart(8)}${'sum'.padStart(9)}   (ms, ${records.length} pictures)`);
  for (const [name, of] of rows) {
    const { median, p90, max, sum } = spread(records.map(of));
    console.log(`${name.padEnd(width)}${ms(median)}${ms(p90)}${ms(max)}${ms(sum).padStart(9)}`);
  }
}
