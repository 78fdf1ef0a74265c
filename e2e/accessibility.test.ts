// axe-core on the popup (light and dark; indexing, idle, results and labelled states), the options
// page, and what the extension draws on a page (highlights with the navigation bar, the classify
// card), in Chromium: no serious or critical violation. Each violation is printed with its
// elements. Firefox runs axe-core too (keyboard-a11y.test.ts).
import AxeBuilder from '@axe-core/playwright';
import { describe, expect, it } from 'vitest';
import { launchChromium, popupPath, type ChromiumHarness, type HPage } from './browsers';
import { CHROME_DIR, POPUP, useServerAndBrowser, waitUntil } from './test-build';

async function seriousViolations(harness: ChromiumHarness, page: HPage, state: string, include?: string): Promise<string[]> {
  const builder = new AxeBuilder({ page: harness.raw(page) });
  // On a web page only what the extension adds is ours to check.
  if (include) builder.include(include);
  const result = await builder.analyze();
  // An include that matched nothing would pass every rule by checking nothing.
  if (result.passes.length === 0) return [`${state}: axe checked nothing`];
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const lines = serious.map((v) => `${state}: ${v.id} (${v.impact}) ${v.nodes.length}× ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  console.log(`[axe] ${state}: ${result.violations.length} violations (${result.violations.map((v) => `${v.id}:${v.impact}`).join(', ') || 'none'}), ${serious.length} serious or critical${lines.length ? '\n  ' + lines.join('\n  ') : ''}`);
  return lines;
}

describe('accessibility (Chromium, axe-core)', () => {
  const running = useServerAndBrowser(() => launchChromium(CHROME_DIR));

  for (const scheme of ['light', 'dark'] as const) {
    it(`popup and options, ${scheme}: no serious or critical violations`, async () => {
      const harness = running.harness();
      const server = running.server();
      const found: string[] = [];
      const page = await harness.openPage(`${server.origin}/colors.html`);
      // Slow images keep the page indexing long enough to check that state.
      // (addresses of their own per scheme: the embedding cache would answer the second run at once)
      await page.evaluate((run) => {
        for (const colour of ['red', 'blue', 'green']) document.body.append(Object.assign(new Image(64, 64), { src: `/img/solid/${colour}.png?w=64&h=64&delay=6000&run=${run}`, alt: colour }));
      }, scheme);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      await harness.raw(popup).emulateMedia({ colorScheme: scheme });
      await waitUntil('indexing', () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset), (d) => d.total === '9' && Number(d.done) >= 6 && d.done !== '9', 30_000);
      found.push(...(await seriousViolations(harness, popup, `popup indexing ${scheme}`)));
      await waitUntil('indexed', () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''), (d) => d === '9', 60_000);
      found.push(...(await seriousViolations(harness, popup, `popup idle ${scheme}`)));
      await popup.fill('[data-testid=search-input]', 'red');
      await waitUntil('results', () => popup.evaluate(() => document.querySelectorAll('[data-testid=result]').length), (n) => n === 9, 30_000);
      await popup.click('[data-testid=show-all]');
      found.push(...(await seriousViolations(harness, popup, `popup results ${scheme}`)));
      await popup.click('[data-testid=classify-all]');
      await waitUntil('groups', () => popup.evaluate(() => document.querySelectorAll('[data-testid=group]').length), (n) => n > 0, 60_000);
      found.push(...(await seriousViolations(harness, popup, `popup labelled ${scheme}`)));
      const options = await harness.openPage('src/options/options.html');
      await harness.raw(options).emulateMedia({ colorScheme: scheme });
      await options.waitFor('[data-testid=label-set-active] option');
      found.push(...(await seriousViolations(harness, options, `options ${scheme}`)));
      await Promise.all([popup.close(), page.close(), options.close()]);
      expect(found).toEqual([]);
    }, 180_000);

    it(`on the page, ${scheme}: highlights with the navigation bar, and the classify card`, async () => {
      const harness = running.harness();
      const server = running.server();
      const found: string[] = [];
      const page = await harness.openPage(`${server.origin}/page-nav.html`);
      await harness.raw(page).emulateMedia({ colorScheme: scheme });
      const tabId = await harness.tabIdOf(page);
      const popup = await harness.openPage(popupPath(tabId, POPUP));
      await waitUntil('indexed', () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''), (d) => d === '9', 60_000);
      await popup.fill('[data-testid=search-input]', 'red');
      const overlay = () =>
        page.evaluate(() => {
          const root = document.querySelector('mobileclip-lens-overlay')?.shadowRoot;
          return { bar: !!root?.querySelector('[data-testid=page-nav]'), highlights: root?.querySelectorAll('[data-testid=highlight]').length ?? 0, card: root?.querySelector<HTMLElement>('[data-testid=classify-card]')?.dataset.state ?? null };
        });
      await waitUntil('highlights and the bar', overlay, (o) => o.bar && o.highlights > 0, 30_000);
      await harness.raw(page).bringToFront();
      found.push(...(await seriousViolations(harness, page, `page highlights and bar ${scheme}`, 'mobileclip-lens-overlay')));
      const red = `${server.origin}/img/solid/red.png?w=160&h=120`;
      await harness.evalInExtension(([tab, url]) => (globalThis as any).__lensTest.classifyImage(tab, url) as Promise<unknown>, [tabId, red] as const);
      await waitUntil('the card', overlay, (o) => o.card === 'labels', 30_000);
      found.push(...(await seriousViolations(harness, page, `page classify card ${scheme}`, 'mobileclip-lens-overlay')));
      await Promise.all([popup.close(), page.close()]);
      expect(found).toEqual([]);
    }, 120_000);
  }
});
