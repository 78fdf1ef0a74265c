// `npm start`: build, then open Chromium with the extension loaded on the demo page.
// With a real model in models/ (npm run models:fetch -- mobileclip-s0) the release build is used;
// otherwise the test build with the fixture model, and the demo page and popup say so plainly.
// Without a display (a server, CI) Chromium runs headless: the script then drives one search
// itself, prints the ranking and saves screenshots, so the whole path is still shown working.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_MODEL_ID, getModel } from '../src/engine/registry';
import { startServer } from '../e2e/server';
import { CHROMIUM_PATH as CHROMIUM } from '../e2e/browsers';
import { ensureBrowsers } from './ensure-browsers';
import { fetchModel, progressPrinter } from './fetch-model';

const root = resolve(import.meta.dirname, '..');

/** A model counts once its download finished: the download writes manifest.json last. */
function realModelPresent(): boolean {
  const dir = join(root, 'models');
  return existsSync(dir) && readdirSync(dir).some((id) => getModel(id) && !getModel(id)!.testOnly && existsSync(join(dir, id, 'manifest.json')));
}

/** Tries once to fetch the default model; on a machine without internet this fails fast. */
async function tryFetchDefaultModel(): Promise<boolean> {
  console.log(`No MobileCLIP model in models/: trying to download ${DEFAULT_MODEL_ID} (one time)…`);
  try {
    await fetchModel({ id: DEFAULT_MODEL_ID, backend: 'all', outDir: join(root, 'models'), retries: 1, stallTimeoutMs: 20_000, onProgress: progressPrinter(process.stdout) });
    return true;
  } catch (error) {
    console.log(`\nCould not download it (${(error as Error).message.split('\n')[0]}).`);
    return false;
  }
}

async function main(): Promise<void> {
  ensureBrowsers(['chromium']);
  const real = realModelPresent() || (await tryFetchDefaultModel());
  console.log(real ? 'Building with the bundled MobileCLIP model…' : 'Using the test fixture model instead, which only understands colours (fetch a real one later with: npm run models:fetch -- mobileclip-s0).');
  const built = spawnSync('npx', ['tsx', 'scripts/build.ts', ...(real ? [] : ['--test']), '--target', 'chrome'], { stdio: 'inherit', cwd: root });
  if (built.status !== 0) process.exit(built.status ?? 1);
  const extension = join(root, real ? 'dist' : 'dist-test', 'chrome');

  const server = await startServer();
  const demo = `${server.origin}/demo.html${real ? '' : '?fixture=1'}`;
  const profile = mkdtempSync(join(tmpdir(), 'lens-profile-'));
  const args = [
    `--load-extension=${extension}`,
    `--disable-extensions-except=${extension}`,
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ];

  if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) {
    console.log(`Opening Chromium on ${demo} — click the extension's icon (puzzle piece → MobileCLIP Lens) and search. Ctrl-C to stop.`);
    const browser = spawn(CHROMIUM, [`--user-data-dir=${profile}`, ...args, demo], { stdio: 'ignore' });
    browser.on('exit', async () => {
      await server.close();
      process.exit(0);
    });
    process.on('SIGINT', () => browser.kill());
    return;
  }

  console.log('No display: running Chromium headless and driving one search to show the extension working.');
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, ignoreDefaultArgs: ['--disable-extensions'] });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const extensionId = new URL(worker.url()).host;
  const page = await context.newPage();
  await page.goto(demo);
  const tabId = await worker.evaluate(async (url) => {
    const [tab] = await (globalThis as any).chrome.tabs.query({ url });
    return tab?.id;
  }, page.url());
  const popup = await context.newPage();
  await popup.goto(`chrome-extension://${extensionId}/src/popup/popup.html?tab=${tabId}`);
  await popup.locator('[data-testid=search-input]').fill(real ? 'a red car' : 'red');
  await popup.locator('[data-testid=result]').first().waitFor({ timeout: 120_000 });
  await popup.waitForTimeout(1000);
  const results = await popup.locator('[data-testid=result]').evaluateAll((items) => items.map((i) => `${(i as HTMLElement).dataset.rank}. ${(i as HTMLElement).dataset.score}  ${(i as HTMLElement).dataset.src}`));
  console.log(`Found ${await popup.locator('[data-testid=image-count]').textContent()} images; backend ${await popup.locator('[data-testid=backend]').textContent()}. Ranking:`);
  for (const line of results) console.log(`  ${line}`);
  const shots = join(root, '.cache');
  mkdirSync(shots, { recursive: true });
  await popup.setViewportSize({ width: 420, height: 600 });
  await popup.screenshot({ path: join(shots, 'start-popup.png') });
  await page.bringToFront();
  await page.screenshot({ path: join(shots, 'start-page.png') });
  console.log(`Screenshots: ${join(shots, 'start-popup.png')}, ${join(shots, 'start-page.png')}`);
  await context.close();
  await server.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
