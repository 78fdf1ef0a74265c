// Accessibility that axe-in-Chromium does not cover: axe-core injected into Firefox's popup and
// options page (light and dark); the popup's live region, counted over an indexing run (polite,
// at most one announcement every few seconds); and the keyboard: tabbing through the options page
// and the popup reaches every visible control, each showing a focus indicator.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, popupPath, type ChromiumHarness, type FirefoxHarness, type HPage } from './browsers';
import type { TestServer } from './server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '3e9a1c5b-2d4f-4b6a-8e1c-7f0a2b3c4d5e';
const OPTIONS = 'src/options/options.html';
/** src/popup/announcer.ts ANNOUNCE_EVERY_MS, less the timers' slack. */
const MIN_GAP_MS = 4_800;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type AnyHarness = ChromiumHarness | FirefoxHarness;

const progress = (popup: HPage) => popup.evaluate(() => ({ ...(document.querySelector('[data-testid=progress]') as HTMLElement).dataset }));

/** axe-core's own source evaluated in the page (not subject to the page's CSP), then axe.run. */
async function firefoxViolations(harness: FirefoxHarness, page: HPage, state: string): Promise<string[]> {
  const raw = harness.raw(page);
  await raw.evaluate(AXE_SOURCE);
  const result = await raw.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[]; passes: unknown[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return { passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, count: v.nodes.length, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })) };
  });
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const lines = serious.map((v) => `${state}: ${v.id} (${v.impact}) ${v.count}× ${v.targets.join(', ')}`);
  console.log(`[axe firefox] ${state}: ${result.violations.length} violations (${result.violations.map((v) => `${v.id}:${v.impact}`).join(', ') || 'none'}), ${serious.length} serious or critical${lines.length ? '\n  ' + lines.join('\n  ') : ''}`);
  if (result.passes === 0) lines.push(`${state}: axe checked nothing`);
  return lines;
}

/** Slow images appended to a page: it indexes for about `seconds` s, one image landing every second or so. */
function addSlowImages(page: HPage, seconds: number, run: string): Promise<void> {
  return page.evaluate(
    ([n, r]) => {
      // Sizes of their own: identical bytes would count as one image (merged duplicates).
      for (let i = 1; i <= n; i++) document.body.append(Object.assign(new Image(64, 64), { src: `/img/solid/red.png?w=${50 + i}&h=64&delay=${i * 1000}&run=${r}`, alt: `slow ${i}` }));
    },
    [seconds, run] as const,
  );
}

for (const scheme of ['light', 'dark'] as const) {
  describe(`axe-core in Firefox, ${scheme}`, () => {
    requireTestBuild();
    // The system's and the content's colour scheme (content-override: 0 dark, 1 light).
    const dark = scheme === 'dark';
    const prefs = { 'ui.systemUsesDarkTheme': dark ? 1 : 0, 'layout.css.prefers-color-scheme.content-override': dark ? 0 : 1 };
    const running = useServerAndBrowser(() => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: OPTIONS, prefs }));

    it('popup (indexing, idle, paused) and options: no serious or critical violations', async () => {
      const harness = running.harness();
      const server = running.server();
      const found: string[] = [];
      const page = await harness.openPage(`${server.origin}/colors.html`);
      await addSlowImages(page, 6, scheme);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      expect(await popup.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(scheme === 'dark');
      await waitUntil('indexing', () => progress(popup), (d) => d.total === '12' && Number(d.done) >= 6 && d.done !== '12', 30_000);
      found.push(...(await firefoxViolations(harness, popup, `popup indexing ${scheme}`)));
      await waitUntil('indexed', () => progress(popup), (d) => d.done === '12', 60_000);
      found.push(...(await firefoxViolations(harness, popup, `popup idle ${scheme}`)));
      await popup.click('[data-testid=pause-indexing]');
      await popup.waitFor('[data-testid=indexing-off]:not([hidden])');
      found.push(...(await firefoxViolations(harness, popup, `popup paused ${scheme}`)));
      await popup.click('[data-testid=indexing-off-action]');
      const options = await harness.openPage(OPTIONS);
      await options.waitFor('[data-testid=label-set-active] option');
      found.push(...(await firefoxViolations(harness, options, `options ${scheme}`)));
      await Promise.all([popup.close(), page.close(), options.close()]);
      expect(found).toEqual([]);
    }, 120_000);
  });
}

/** Every announcement of the popup's live region, with its time, from when this runs. */
const recordAnnouncements = () => {
  const region = document.querySelector('[data-testid=announcer]')!;
  const heard: { at: number; text: string }[] = [];
  (window as unknown as { __heard: typeof heard }).__heard = heard;
  new MutationObserver(() => heard.push({ at: performance.now(), text: region.textContent ?? '' })).observe(region, { childList: true, characterData: true, subtree: true });
};

interface Stop {
  name: string;
  indicator: boolean;
}

/** Presses Tab from the top of the page until focus leaves it; each stop with whether it shows focus. */
async function tabThrough(harness: AnyHarness, page: HPage): Promise<{ stops: Stop[]; controls: string[] }> {
  await page.evaluate(() => {
    // Every control gets a unique name to compare by: its id, else its test id (a list repeats
    // those, e.g. one "Use" button per model) or tag, with its position.
    document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], summary, [tabindex]').forEach((el, i) => (el.dataset.kbName = el.id || `${el.dataset.testid ?? el.tagName.toLowerCase()}#${i}`));
    // Tab goes on from the focused element: start above the first control (out of the tab order itself).
    const start = Object.assign(document.createElement('span'), { tabIndex: -1 });
    document.body.prepend(start);
    start.focus();
  });
  const stops: Stop[] = [];
  for (let i = 0; i < 200; i++) {
    if (harness.name === 'chromium') await harness.raw(page).keyboard.press('Tab');
    else await harness.raw(page).keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      return { name: el.dataset.kbName ?? el.tagName, indicator: outline || style.boxShadow !== 'none' };
    });
    // Past the last control focus goes to the browser's own UI (or round to the first control).
    if (!stop || stops.some((s) => s.name === stop.name)) break;
    stops.push(stop);
  }
  // The controls a person can see and use; a radio group is one stop (arrows move within it).
  const controls = await page.evaluate(() => {
    const names = new Set<string>();
    for (const el of document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], summary, [tabindex]:not([tabindex="-1"])')) {
      if ((el as HTMLButtonElement).disabled || el.getClientRects().length === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      if (el instanceof HTMLInputElement && el.type === 'radio') {
        const group = [...document.querySelectorAll<HTMLInputElement>(`input[type=radio][name="${el.name}"]`)];
        names.add(`radio:${el.name}`);
        if (!group.some((r) => r.checked) && el !== group[0]) continue;
        if (group.some((r) => r.checked) && !el.checked) continue;
      }
      names.add(el.dataset.kbName ?? el.tagName);
    }
    return [...names];
  });
  return { stops, controls };
}

function keyboardTests(name: string, launch: () => Promise<AnyHarness>): void {
  describe(name, () => {
    requireTestBuild();
    const running = useServerAndBrowser(launch);

    it('the live region announces indexing politely, at most every few seconds, and the end', async () => {
      const harness = running.harness();
      const server: TestServer = running.server();
      const page = await harness.openPage(`${server.origin}/colors.html?announce`);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      await waitUntil('indexed', () => progress(popup), (d) => d.done === '6', 60_000);
      expect(await popup.evaluate(() => ({ region: document.querySelector('[data-testid=announcer]')!.getAttribute('aria-live'), status: document.getElementById('status')!.getAttribute('aria-live') }))).toEqual({ region: 'polite', status: null });
      await popup.evaluate(recordAnnouncements);
      const started = Date.now();
      await addSlowImages(page, 12, name);
      await waitUntil('slow images indexed', () => progress(popup), (d) => d.done === '18', 60_000);
      // The last word comes at most one interval after the end.
      const heard = await waitUntil('the end announced', () => popup.evaluate(() => (window as unknown as { __heard: { at: number; text: string }[] }).__heard), (h) => h.at(-1)?.text === 'All 18 images indexed.', 10_000);
      const seconds = (Date.now() - started) / 1000;
      console.log(`[${name}] ${heard.length} announcements in ${seconds.toFixed(1)} s: ${heard.map((h) => h.text).join(' | ')}`);
      expect(heard.length).toBeGreaterThanOrEqual(2);
      expect(heard.length).toBeLessThanOrEqual(Math.ceil((seconds * 1000) / MIN_GAP_MS) + 1);
      for (let i = 1; i < heard.length; i++) expect(heard[i].at - heard[i - 1].at).toBeGreaterThanOrEqual(MIN_GAP_MS);
      expect(heard.some((h) => /^Indexing: \d+ of 18 images done\.$/.test(h.text))).toBe(true);
      await Promise.all([popup.close(), page.close()]);
    }, 120_000);

    it('Tab reaches every control of the popup and the options page, each with a visible focus indicator', async () => {
      const harness = running.harness();
      const server = running.server();
      const page = await harness.openPage(`${server.origin}/colors.html?keyboard`);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      await waitUntil('indexed', () => progress(popup), (d) => d.done === '6', 60_000);
      const options = await harness.openPage(OPTIONS);
      await options.waitFor('[data-testid=label-set-active] option');
      for (const [what, p] of [['popup', popup], ['options', options]] as const) {
        if (harness.name === 'chromium') await harness.raw(p).bringToFront();
        else await harness.raw(p).bringToFront();
        const { stops, controls } = await tabThrough(harness, p);
        console.log(`[${name}] ${what}: ${stops.length} stops: ${stops.map((s) => s.name).join(', ')}`);
        expect(stops.filter((s) => !s.indicator).map((s) => s.name)).toEqual([]);
        const reached = new Set(stops.map((s) => s.name));
        const radioGroups = await p.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLInputElement>('input[type=radio]')].map((r) => [r.dataset.kbName, `radio:${r.name}`])));
        for (const stop of stops) if (radioGroups[stop.name]) reached.add(radioGroups[stop.name]);
        expect(controls.filter((c) => !reached.has(c))).toEqual([]);
      }
      await Promise.all([popup.close(), page.close(), options.close()]);
    }, 120_000);
  });
}

keyboardTests('Chromium', () => launchChromium(CHROME_DIR));
keyboardTests('Firefox ESR', () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: OPTIONS }));
