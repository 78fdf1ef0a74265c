// axe-core on the popup (light and dark; idle, results and labelled states) and the options page,
// in Chromium: no serious or critical violation. Each violation is printed with its elements.
import AxeBuilder from '@axe-core/playwright';
import { describe, expect, it } from 'vitest';
import { launchChromium, popupPath, type ChromiumHarness, type HPage } from './browsers';
import { CHROME_DIR, POPUP, useServerAndBrowser, waitUntil } from './test-build';

async function seriousViolations(harness: ChromiumHarness, page: HPage, state: string): Promise<string[]> {
  const result = await new AxeBuilder({ page: harness.raw(page) }).analyze();
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
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      await harness.raw(popup).emulateMedia({ colorScheme: scheme });
      await waitUntil('indexed', () => popup.evaluate(() => (document.querySelector('[data-testid=progress]') as HTMLElement).dataset.done ?? ''), (d) => d === '6', 60_000);
      found.push(...(await seriousViolations(harness, popup, `popup idle ${scheme}`)));
      await popup.fill('[data-testid=search-input]', 'red');
      await waitUntil('results', () => popup.evaluate(() => document.querySelectorAll('[data-testid=result]').length), (n) => n === 6, 30_000);
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
  }
});
