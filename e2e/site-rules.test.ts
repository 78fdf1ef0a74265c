// Options completeness, in Chromium and Firefox: an excluded site's images are never fetched or
// indexed and its popup says so, with the button that lets it in; pausing from the popup stops
// indexing everywhere while search over what is indexed still works, and Resume goes on; reset
// to defaults asks first and keeps caches and label sets.
import { describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, popupPath, type ChromiumHarness, type FirefoxHarness, type HPage } from './browsers';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '6b1f0c2e-7a4d-4e8b-9c3a-5d2e1f0a9b8c';
const OPTIONS = 'src/options/options.html';
/** Long enough for a page's six images to be fetched and indexed if anything let them through. */
const QUIET_MS = 3_000;

type AnyHarness = ChromiumHarness | FirefoxHarness;
/** The part of the extension API these tests use, as an extension page sees it. */
type Ext = { storage: { local: { get(key: string): Promise<Record<string, unknown>>; set(items: object): Promise<void> } } };

const done = (popup: HPage) => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? '');
const found = (popup: HPage) => popup.evaluate(() => document.querySelector('[data-testid=image-count]')?.textContent ?? '');
const indexingOff = (popup: HPage) =>
  popup.evaluate(() => {
    const line = document.querySelector<HTMLElement>('[data-testid=indexing-off]')!;
    return line.hidden ? null : { reason: line.dataset.reason ?? '', text: line.querySelector('[data-testid=indexing-off-text]')?.textContent ?? '', action: line.querySelector('button')?.textContent ?? '' };
  });

function storedSettings(harness: AnyHarness): Promise<Record<string, unknown>> {
  return harness.evalInExtension(async () => {
    const g = globalThis as unknown as { browser?: Ext; chrome?: Ext };
    return ((await (g.browser ?? g.chrome)!.storage.local.get('settings')).settings ?? {}) as Record<string, unknown>;
  });
}

function siteRuleTests(name: string, launch: () => Promise<AnyHarness>): void {
  describe(name, () => {
    requireTestBuild();
    const running = useServerAndBrowser(launch);

    it('an excluded site is not fetched nor indexed; its popup says so and lets it in', async () => {
      const harness = running.harness();
      const server = running.server();
      const options = await harness.openPage(OPTIONS);
      await options.fill('[data-testid=excluded-sites]', 'https://127.0.0.1/');
      await waitUntil('the exclusion saved', () => storedSettings(harness), (s) => JSON.stringify(s.excludedSites) === '["127.0.0.1"]', 10_000);
      await options.close();

      const logged = server.log.length;
      const page = await harness.openPage(`${server.origin}/colors.html?excluded`);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      const off = await waitUntil('the excluded line', () => indexingOff(popup), (o) => o !== null, 15_000);
      expect(off).toEqual({ reason: 'excluded', text: 'Indexing is off for 127.0.0.1 (excluded in settings).', action: 'Index this site' });
      await waitUntil('the page reported', () => found(popup), (n) => n === '6', 15_000);
      await new Promise((r) => setTimeout(r, QUIET_MS));
      expect(await done(popup)).toBe('0');
      // The page loads its own images; the extension fetched none of them.
      const fetchedByExtension = server.log.slice(logged).filter((r) => r.url.startsWith('/img/') && r.dest !== 'image');
      expect(fetchedByExtension).toEqual([]);

      await popup.click('[data-testid=indexing-off-action]');
      await waitUntil('indexed once let in', () => done(popup), (d) => d === '6', 60_000);
      expect(await indexingOff(popup)).toBeNull();
      expect((await storedSettings(harness)).excludedSites).toEqual([]);
      await Promise.all([popup.close(), page.close()]);
    }, 120_000);

    it('pause from the popup: nothing new is indexed, search still works; Resume goes on', async () => {
      const harness = running.harness();
      const server = running.server();
      const first = await harness.openPage(`${server.origin}/colors.html?before-pause`);
      const firstPopup = await harness.openPage(popupPath(await harness.tabIdOf(first), POPUP));
      await waitUntil('indexed before pausing', () => done(firstPopup), (d) => d === '6', 60_000);
      await firstPopup.click('[data-testid=pause-indexing]');
      await waitUntil('paused line', () => indexingOff(firstPopup), (o) => o?.reason === 'paused', 10_000);
      expect(await firstPopup.evaluate(() => document.querySelector('[data-testid=pause-indexing]')!.getAttribute('aria-pressed'))).toBe('true');
      // What is indexed stays searchable.
      await firstPopup.fill('[data-testid=search-input]', 'red');
      await waitUntil('results while paused', () => firstPopup.evaluate(() => document.querySelectorAll('[data-testid=result]').length), (n) => n > 0, 30_000);

      const logged = server.log.length;
      const page = await harness.openPage(`${server.origin}/colors.html?while-paused`);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      expect(await waitUntil('paused line', () => indexingOff(popup), (o) => o !== null, 10_000)).toEqual({ reason: 'paused', text: 'Paused: no image is being indexed.', action: 'Resume' });
      await waitUntil('the page reported', () => found(popup), (n) => n === '6', 15_000);
      await new Promise((r) => setTimeout(r, QUIET_MS));
      expect(await done(popup)).toBe('0');
      expect(server.log.slice(logged).filter((r) => r.url.startsWith('/img/') && r.dest !== 'image')).toEqual([]);

      await popup.click('[data-testid=indexing-off-action]');
      await waitUntil('indexed after Resume', () => done(popup), (d) => d === '6', 60_000);
      expect(await indexingOff(popup)).toBeNull();
      expect(await firstPopup.evaluate(() => document.querySelector('[data-testid=pause-indexing]')!.getAttribute('aria-pressed'))).toBe('false');
      await Promise.all([popup.close(), page.close(), firstPopup.close(), first.close()]);
    }, 120_000);

    it('reset to defaults asks first, then resets every setting and keeps caches and label sets', async () => {
      const harness = running.harness();
      await harness.evalInExtension(async () => {
        const g = globalThis as unknown as { browser?: Ext; chrome?: Ext };
        const storage = (g.browser ?? g.chrome)!.storage.local;
        const { settings } = await storage.get('settings');
        await storage.set({
          settings: { ...(settings as object), popupSize: 'roomy', minImageSize: 99, excludedSites: ['a.test'], indexingPaused: true },
          labelSets: { active: 'mine', user: [{ id: 'mine', name: 'Mine', labels: ['red', 'blue'], templates: ['{}'] }] },
        });
      });
      const options = await harness.openPage(OPTIONS);
      await waitUntil('cache stats', () => options.text('#cache-stats'), (s) => /\d/.test(s), 15_000);
      const cacheBefore = await options.text('#cache-stats');
      expect(await options.evaluate(() => (document.querySelector('[data-testid=indexing-paused]') as HTMLInputElement).checked)).toBe(true);

      await options.click('[data-testid=reset-settings]');
      expect(await options.evaluate(() => (document.querySelector('[data-testid=reset-confirm]') as HTMLElement).hidden)).toBe(false);
      expect(await options.text('#reset-question')).toContain('are kept');
      await options.click('[data-testid=reset-no]');
      expect((await storedSettings(harness)).popupSize).toBe('roomy');

      await options.click('[data-testid=reset-settings]');
      await options.click('[data-testid=reset-yes]');
      await waitUntil('reset message', () => options.text('[data-testid=reset-message]'), (t) => t !== '', 10_000);
      expect(await options.text('[data-testid=reset-message]')).toBe('Settings reset to their defaults. Caches, history and label sets were kept.');
      expect(await storedSettings(harness)).toMatchObject({ popupSize: 'compact', minImageSize: 48, excludedSites: [], indexingPaused: false, siteMode: 'all', indexInBackground: false });
      // The page shows the defaults without a reload.
      expect(
        await options.evaluate(() => ({
          size: (document.querySelector('[data-testid=popup-size]') as HTMLSelectElement).value,
          min: (document.querySelector('[data-testid=min-size]') as HTMLInputElement).value,
          paused: (document.querySelector('[data-testid=indexing-paused]') as HTMLInputElement).checked,
          excluded: (document.querySelector('[data-testid=excluded-sites]') as HTMLTextAreaElement).value,
        })),
      ).toEqual({ size: 'compact', min: '48', paused: false, excluded: '' });
      await options.evaluate(() => location.reload());
      await waitUntil('cache stats after reload', () => options.text('#cache-stats').catch(() => ''), (s) => /\d/.test(s), 15_000);
      expect(await options.text('#cache-stats')).toBe(cacheBefore);
      const sets = await harness.evalInExtension(async () => {
        const g = globalThis as unknown as { browser?: Ext; chrome?: Ext };
        return (await (g.browser ?? g.chrome)!.storage.local.get('labelSets')).labelSets as { user: { name: string }[] };
      });
      expect(sets.user.map((s) => s.name)).toEqual(['Mine']);
      await options.close();
    }, 60_000);
  });
}

siteRuleTests('Chromium', () => launchChromium(CHROME_DIR));
siteRuleTests('Firefox ESR', () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: OPTIONS }));
