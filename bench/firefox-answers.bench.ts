// Firefox: how long the background takes to answer while it indexes a page. Firefox's engine
// runs in its event page (no offscreen document), whose thread also answers every popup and
// content script; ORT's WASM runs in ORT's proxy Worker so that a run does not hold those answers
// (src/background/engine-host.ts).
//
// Builds the Firefox release extension with the MobileCLIP-S0 replica bundled (the model files
// `npm run bench:page` prepares: run it once first), serves bench:page's first generated page,
// opens the popup on it and, every 100 ms until `--images` images are indexed, sends the
// background a message and times its answer (one at a time). Prints the time to index and the
// answers' median, 90th percentile and longest, over `--runs` fresh browsers.
//
// Run: npx tsx bench/firefox-answers.bench.ts [--images 48] [--runs 2]

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFirefox, launchFirefox, popupPath } from '../e2e/browsers.ts';
import { FIREFOX_ID, POPUP, waitUntil } from '../e2e/test-build.ts';
import { ARCHMODELS_DIR } from '../scripts/archmodels.ts';
import { medianRange, numberOption, spread } from './cli.ts';
import { startBenchServer } from './page/server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, '.cache/bench-page');
const MODELS = join(CACHE, 's0/models');
const OUT = join(ROOT, '.cache/bench-firefox');
const UUID = '5a1b2c3d-4e5f-4061-8c7d-9e0f1a2b3c4d';

const images = numberOption('images', 48);
const runs = numberOption('runs', 2);

if (!existsSync(join(MODELS, 'mobileclip-s0')) || !existsSync(join(CACHE, 'images/page-0'))) {
  console.log('skipped: run `npm run bench:page` once first (it prepares the S0 replica in the Hugging Face layout and the pages)');
  process.exit(0);
}
if (!findFirefox()) {
  console.log('skipped: no Firefox (apt-get install -y firefox-esr)');
  process.exit(0);
}

execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build.ts'), '--target', 'firefox', '--models', MODELS, '--out', OUT], { stdio: 'inherit' });

const server = await startBenchServer({ cache: join(CACHE, 'images'), hfDir: join(CACHE, 's0/hf'), repo: 'Xenova/mobileclip_s0', arch: ARCHMODELS_DIR });
const rows: { indexedS: number; median: number; p90: number; max: number; over200: number; answers: number }[] = [];
const load = [loadavg()[0], 0];
try {
  for (let run = 0; run < runs; run++) {
    const harness = await launchFirefox(join(OUT, 'firefox'), { addonId: FIREFOX_ID, uuid: UUID, controlPath: 'src/options/options.html' });
    try {
      const page = await harness.openPage(`${server.origin}/page/0.html`);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      const started = Date.now();
      // Anonymous functions only: tsx would name declared ones with a helper the page does not have.
      await popup.evaluate(() => {
        const g = globalThis as unknown as { browser: { runtime: { sendMessage(m: unknown): Promise<unknown> } }; answers: number[] };
        g.answers = [];
        let waiting = false;
        setInterval(async () => {
          if (waiting) return;
          waiting = true;
          const sent = performance.now();
          // No listener answers this type: the answer comes once the background has run its listeners.
          await g.browser.runtime.sendMessage({ type: 'bench-probe' }).catch(() => undefined);
          g.answers.push(performance.now() - sent);
          waiting = false;
        }, 100);
      });
      const done = () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement | null)?.dataset.done ?? '');
      await waitUntil(`${images} images indexed`, done, (d) => Number(d) >= images, 600_000);
      const indexedS = (Date.now() - started) / 1000;
      const answers = await popup.evaluate(() => (globalThis as unknown as { answers: number[] }).answers);
      const { median, p90, max } = spread(answers);
      const row = { indexedS, median, p90, max, over200: answers.filter((a) => a > 200).length, answers: answers.length };
      rows.push(row);
      console.error(`run ${run + 1}: ${images} indexed in ${indexedS.toFixed(1)} s; answers ${row.median.toFixed(0)} / ${row.p90.toFixed(0)} / ${row.max.toFixed(0)} ms`);
    } finally {
      await harness.close();
    }
  }
} finally {
  load[1] = loadavg()[0];
  await server.close();
}

const over = (pick: (r: (typeof rows)[number]) => number, digits = 0) => medianRange(rows.map(pick), digits);
console.log(`\nFirefox release build, MobileCLIP-S0 replica, ${images} images of bench:page's first page, ${runs} runs, load average ${load[0].toFixed(1)} → ${load[1].toFixed(1)}; median (range)\n`);
console.log('| measure | value |');
console.log('|---|---|');
console.log(`| popup open → ${images} images indexed | ${over((r) => r.indexedS, 1)} s |`);
console.log(`| the background's answer: median / 90th percentile / longest | ${over((r) => r.median)} / ${over((r) => r.p90)} / ${over((r) => r.max)} ms |`);
console.log(`| answers over 200 ms / answers sent | ${over((r) => r.over200)} / ${over((r) => r.answers)} |`);
