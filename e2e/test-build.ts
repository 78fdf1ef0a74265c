// What every end-to-end test of the extension shares: where the test build is, how to name
// the Firefox add-on, where the popup lives, and polling for a state to appear.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { HPage } from './browsers';
import { startServer, type TestServer } from './server';

export const CHROME_DIR = process.env.E2E_CHROME_DIR ?? resolve('dist-test/chrome');
export const FIREFOX_DIR = resolve('dist-test/firefox');
/** manifest.json's browser_specific_settings.gecko.id */
export const FIREFOX_ID = 'mobileclip-lens@example.org';
export const POPUP = 'src/popup/popup.html';

/** Polls `probe` until `ok` holds; on timeout the error shows what was last seen. */
export async function waitUntil<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}

/**
 * Waits until the popup's results answer `query` (the results list's data-query): until the
 * background has answered it, the popup still shows the results of the query before.
 */
export function resultsAnswer(popup: HPage, query: string): Promise<string> {
  return waitUntil(`results for "${query}"`, () => popup.evaluate(() => document.getElementById('results')?.dataset.query ?? ''), (q) => q === query);
}

/** Fails the test file at once, with the fix, when the test build is missing. */
export function requireTestBuild(): void {
  if (!existsSync(resolve(CHROME_DIR, 'manifest.json')) || !existsSync(resolve(FIREFOX_DIR, 'manifest.json')))
    throw new Error('dist-test/ is missing: run `npm run build:test` first (npm test does).');
}

/** A local test server for the tests of the calling describe block: started before them, closed after. */
export function useServer(): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());
  return () => server ?? fail('the test server did not start');
}

/**
 * A local test server and one browser for the tests of the calling describe block: started
 * before them (the server first), closed after (the browser first). Read them through the
 * getters inside the tests.
 */
export function useServerAndBrowser<H extends { close(): Promise<void> }>(launch: () => Promise<H>): { server: () => TestServer; harness: () => H } {
  const server = useServer();
  let harness: H | undefined;
  beforeAll(async () => {
    harness = await launch();
  });
  afterAll(async () => harness?.close());
  return { server, harness: () => harness ?? fail('the browser did not start') };
}

function fail(why: string): never {
  throw new Error(why);
}
