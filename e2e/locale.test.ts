// The UI in the second locale: Chromium started with --lang=de (and, with Debian's German language
// pack, Firefox asked for German) renders the popup (indexing, idle with a failed image, results,
// no match, similar, labelled), the page's bar, card (pending, labels, copied) and notice, and the
// options page; no visible text, placeholder, aria-label, title or alt may be, or contain, one of
// the English messages of src/locales/en (messages the same in both languages, like the name,
// are left out; page content such as image names and labels is not ours and not checked, nor is
// technical detail marked lang="en").
// With E2E_SHOTS set (a directory), also screenshots of the German popup and card.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firefoxLangpack, launchChromium, launchFirefox, popupPath, type ChromiumHarness, type Harness, type HPage } from './browsers';
import { clickInOverlay, menuClick, raw, rightClick, rightClickText } from './overlay-actions';
import type { TestServer } from './server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';
import { MODELS } from '../src/engine/registry';

const FIREFOX_UUID = '0c6d7f3e-5b1a-4c2d-8e9f-a1b2c3d4e5f6';
const SHOTS = process.env.E2E_SHOTS;
const LOCALES = resolve('src/locales');

function messagesOf(lang: string, area: string): Record<string, { message: string }> {
  return JSON.parse(readFileSync(join(LOCALES, lang, `${area}.json`), 'utf8')) as Record<string, { message: string }>;
}

function messages(lang: string): Record<string, string> {
  const all: Record<string, string> = {};
  for (const file of readdirSync(join(LOCALES, lang)).filter((f) => f.endsWith('.json'))) {
    for (const [key, entry] of Object.entries(messagesOf(lang, file.replace(/\.json$/, '')))) all[key] = entry.message;
  }
  return all;
}

const EN = messages('en');
const DE = messages('de');

/** English words German uses as they are: a German sentence may hold them ("90 MB Download"). */
const ALSO_GERMAN = new Set(['Download', 'Import', 'Export', 'Status']);
/** Model names are product names, the same in every language (test builds list test-only ones too). */
const MODEL_LABELS = new Set(MODELS.map((m) => m.label));

/**
 * An English message as a pattern: its substitutions match anything. A message with real words
 * ("Copy labels", "$1 indexed") is found inside longer texts too; a message of one short word or
 * mostly substitutions ("Save", "$1 of $2") only as the whole text, so that page content or the
 * technical detail in a German sentence cannot set it off by chance.
 */
function englishPattern(message: string): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = message.split(/\$[1-9]/).map((p) => escape(p.replace(/\$\$/g, '$')));
  const body = parts.join('[\\s\\S]*?');
  const words = message.replace(/\$[1-9$]/g, ' ').match(/[A-Za-z]{2,}/g) ?? [];
  const inside = !words.every((w) => ALSO_GERMAN.has(w)) && (words.length >= 2 || words.some((w) => w.length >= 6));
  return inside ? new RegExp(`(^|\\b|\\W)${body}(\\b|\\W|$)`) : new RegExp(`^\\s*${body}\\s*$`);
}

const ENGLISH = Object.entries(EN)
  .filter(([key, message]) => DE[key] !== message && key !== 'localeCode')
  .map(([key, message]) => ({ key, message, pattern: englishPattern(message) }));

interface Seen {
  where: string;
  text: string;
}

/** The English messages found among texts seen in the UI. */
function englishIn(seen: Seen[]): string[] {
  const found = new Set<string>();
  for (const { where, text } of seen) {
    if (MODEL_LABELS.has(text)) continue;
    for (const { key, pattern } of ENGLISH) if (pattern.test(text)) found.add(`${where}: "${text}" is English (${key}: "${EN[key]}")`);
  }
  return [...found];
}

/**
 * Every visible text node, and placeholder / aria-label / title / alt of visible elements, in the
 * document (or, with `overlayOnly`, only in our overlay's shadow root) and every open shadow root
 * inside. Runs in the page; `<option>`s count when their <select> is visible.
 */
const collectTexts = (overlayOnly: boolean): { where: string; text: string }[] => {
  const out: { where: string; text: string }[] = [];
  const name = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}`;
  const visible = (el: Element): boolean => {
    const select = el.closest('select');
    const box = select ?? el;
    return (box as HTMLElement).checkVisibility ? (box as HTMLElement).checkVisibility({ visibilityProperty: true } as CheckVisibilityOptions) : true;
  };
  const visit = (root: Document | ShadowRoot) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) {
        const parent = node.parentElement;
        const text = node.textContent?.trim() ?? '';
        // Technical detail (an HTTP status, a decoder's words) stays English by design, marked lang="en".
        const detail = parent?.closest('[lang]');
        if (detail && detail !== document.documentElement && (detail as HTMLElement).lang === 'en') continue;
        if (parent && text && !parent.closest('script, style, code, title') && visible(parent)) out.push({ where: name(parent), text });
        continue;
      }
      const el = node as Element;
      if (el.shadowRoot) visit(el.shadowRoot);
      if (!visible(el)) continue;
      for (const attr of ['placeholder', 'aria-label', 'title', 'alt']) {
        const value = el.getAttribute(attr)?.trim();
        if (value) out.push({ where: `${name(el)}@${attr}`, text: value });
      }
    }
  };
  if (overlayOnly) {
    const root = document.querySelector('mobileclip-lens-overlay')?.shadowRoot;
    if (root) visit(root);
  } else {
    visit(document);
    if (document.title) out.push({ where: 'title', text: document.title });
  }
  return out;
};

/** Records the overlay's texts on every change (the card's pending state lasts a moment). */
const recordOverlayTexts = (collect: string) => {
  const seen: { where: string; text: string }[] = [];
  (window as unknown as { __overlayTexts: typeof seen }).__overlayTexts = seen;
  // eslint-disable-next-line no-new-func -- the collector is passed as source: page functions cannot take closures
  const run = new Function(`return (${collect})(true)`) as () => typeof seen;
  const record = () => seen.push(...run());
  const watch = (root: ShadowRoot) => {
    record();
    new MutationObserver(record).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
  };
  const host = document.querySelector('mobileclip-lens-overlay');
  if (host?.shadowRoot) watch(host.shadowRoot);
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n instanceof Element && n.shadowRoot && n.tagName === 'MOBILECLIP-LENS-OVERLAY') watch(n.shadowRoot);
  }).observe(document.documentElement, { childList: true });
};

const texts = (page: HPage, state: string, overlayOnly = false): Promise<Seen[]> =>
  page.evaluate(collectTexts, overlayOnly).then((seen) => seen.map((s) => ({ ...s, where: `${state} ${s.where}` })));

const progress = (popup: HPage) =>
  popup.evaluate(() => {
    const bar = document.querySelector<HTMLElement>('[data-testid=progress]')!;
    return { done: Number(bar.dataset.done), total: Number(bar.dataset.total) };
  });

/** A page of three colours, one image the extension cannot decode, and one that arrives after 8 s. */
function testPageUrl(server: TestServer): string {
  const q = new URLSearchParams();
  for (const src of ['/img/solid/red.png', '/img/solid/blue.png', '/img/solid/green.png', '/hostile/html.png?to=extension']) q.append('img', src);
  q.append('late', '/img/solid/yellow.png?delay=8000');
  return `${server.origin}/generated/page.html?${q}`;
}

/** The popup in each state, every text collected; the German of a few messages is checked to be there. */
async function popupTexts(harness: Harness, server: TestServer): Promise<Seen[]> {
  const page = await harness.openPage(testPageUrl(server));
  const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
  if (SHOTS && harness.name === 'chromium') await (harness as ChromiumHarness).raw(popup).setViewportSize({ width: 424, height: 600 });
  const seen: Seen[] = [];
  expect(await popup.evaluate(() => document.documentElement.lang)).toBe('de');

  await waitUntil('indexing: 5 images found, the late one still on its way', () => progress(popup), (p) => p.total === 5 && p.done < 5, 30_000);
  seen.push(...(await texts(popup, 'indexing')));
  await waitUntil('all 5 indexed or failed', () => progress(popup), (p) => p.total === 5 && p.done === 5, 60_000);
  await popup.evaluate(() => ((document.getElementById('errors') as HTMLDetailsElement).open = true));
  await waitUntil('the failed image listed', () => popup.evaluate(() => document.querySelectorAll('[data-testid=failed]').length), (n) => n === 1);
  const idle = await texts(popup, 'idle');
  expect(idle.some((s) => s.text.includes(DE.popupIndexed.replace('$1', '4')))).toBe(true);
  seen.push(...idle);

  await popup.fill('[data-testid=search-input]', 'red');
  await waitUntil('results', () => popup.evaluate(() => document.querySelectorAll('[data-testid=result]:not([hidden])').length), (n) => n >= 1, 30_000);
  await popup.click('[data-testid=show-all]');
  await popup.click('[data-testid=result] [data-testid=classify-button]');
  await popup.waitFor('[data-testid=classify-label]');
  if (SHOTS && harness.name === 'chromium') await popup.screenshot(`${SHOTS}/popup-de.png`);
  seen.push(...(await texts(popup, 'results')));

  await popup.click('[data-testid=result] [data-testid=similar]');
  await waitUntil('similar', () => popup.evaluate(() => !document.getElementById('similar-bar')!.hidden), (shown) => shown, 30_000);
  seen.push(...(await texts(popup, 'similar')));

  await popup.fill('[data-testid=search-input]', 'xyzzy');
  await waitUntil('no match', () => popup.evaluate(() => !document.getElementById('no-match')!.hidden), (shown) => shown, 30_000);
  seen.push(...(await texts(popup, 'no-match')));

  await popup.click('[data-testid=classify-all]');
  await waitUntil('groups', () => popup.evaluate(() => document.querySelectorAll('[data-testid=group]').length), (n) => n > 0, 60_000);
  seen.push(...(await texts(popup, 'labelled')));
  await Promise.all([popup.close(), page.close()]);
  return seen;
}

describe('Chromium with --lang=de', () => {
  const running = useServerAndBrowser(async () => {
    requireTestBuild();
    return launchChromium(CHROME_DIR, { args: ['--lang=de'] });
  });

  it('the popup in its indexing, idle, failed, results, similar, no-match and labelled states has no English left', async () => {
    const seen = await popupTexts(running.harness(), running.server());
    console.log(`[locale] chromium popup: ${seen.length} texts checked against ${ENGLISH.length} English messages`);
    expect(englishIn(seen)).toEqual([]);
  }, 180_000);

  it('the bar, the card (pending, labels, copied) and the notice on the page have no English left', async () => {
    const harness = running.harness();
    const page = await harness.openPage(`${running.server().origin}/page-nav.html`);
    const tabId = await harness.tabIdOf(page);
    const popup = await harness.openPage(popupPath(tabId, POPUP));
    await waitUntil('9 images indexed', () => progress(popup), (p) => p.done === 9, 60_000);
    await page.evaluate(recordOverlayTexts, collectTexts.toString());
    await popup.fill('[data-testid=search-input]', 'red');
    await waitUntil('the bar', () => page.evaluate(() => !!document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelector('[data-testid=page-nav]')), (b) => b);
    const seen = await texts(page, 'bar', true);
    expect(seen.map((s) => s.text)).toContain(DE.navLabel);
    await popup.close();

    await raw(harness, page).bringToFront();
    await rightClick(harness, page, 'blue');
    await menuClick(harness, tabId, 'classify-image');
    const cardState = () => page.evaluate(() => document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelector<HTMLElement>('[data-testid=classify-card]')?.dataset.state);
    await waitUntil('the card with labels', cardState, (s) => s === 'labels');
    await clickInOverlay(harness, page, 'classify-copy');
    const copied = () => page.evaluate(() => document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelector('[data-testid=classify-copy-status]')?.textContent ?? '');
    await waitUntil('copied', copied, (t) => t === DE.cardCopied);
    if (SHOTS) await cardScreenshot(harness as ChromiumHarness, page, `${SHOTS}/card-de.png`);
    await raw(harness, page).keyboard.press('Escape');

    await rightClickText(harness, page);
    await menuClick(harness, tabId, 'classify-image');
    await waitUntil('the notice', () => page.evaluate(() => !!document.querySelector('mobileclip-lens-overlay')?.shadowRoot?.querySelector('[data-testid=page-notice]')), (n) => n);

    const recorded = await page.evaluate(() => (window as unknown as { __overlayTexts: { where: string; text: string }[] }).__overlayTexts);
    const all = [...seen, ...recorded.map((s) => ({ ...s, where: `overlay ${s.where}` }))];
    const shownTexts = all.map((s) => s.text);
    for (const key of ['cardPending', 'cardCopy', 'noticeNoImage'] as const) expect(shownTexts).toContain(DE[key]);
    console.log(`[locale] chromium page: ${new Set(shownTexts).size} distinct texts checked`);
    expect(englishIn(all)).toEqual([]);
    await page.close();
  }, 120_000);

  // Runs once the options page has messages of its own (en/options.json): until then all of it is English.
  it.skipIf(Object.keys(messagesOf('en', 'options')).length === 0)('the options page has no English left', async () => {
    const options = await running.harness().openPage('src/options/options.html');
    await options.waitFor('[data-testid=label-set-active] option');
    expect(await options.evaluate(() => document.documentElement.lang)).toBe('de');
    const seen = await texts(options, 'options');
    console.log(`[locale] chromium options: ${seen.length} texts checked`);
    expect(englishIn(seen)).toEqual([]);
    await options.close();
  });
});

describe('Firefox asked for German (pref intl.locale.requested, Debian firefox-esr-l10n-de)', () => {
  const running = useServerAndBrowser(async () => {
    requireTestBuild();
    if (!firefoxLangpack('de')) throw new Error('Firefox has no German language pack: sudo apt-get install -y firefox-esr-l10n-de (npm test installs it)');
    return launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, prefs: { 'intl.locale.requested': 'de' } });
  });

  it('the popup in its indexing, idle, failed, results, similar, no-match and labelled states has no English left', async () => {
    const seen = await popupTexts(running.harness(), running.server());
    console.log(`[locale] firefox popup: ${seen.length} texts checked`);
    expect(englishIn(seen)).toEqual([]);
  }, 180_000);
});

/** The card and the image it describes, with a margin: a small picture for the note. */
async function cardScreenshot(harness: ChromiumHarness, page: HPage, path: string): Promise<void> {
  const box = await page.evaluate(() => {
    const card = document.querySelector('mobileclip-lens-overlay')!.shadowRoot!.querySelector('[data-testid=classify-card]')!.getBoundingClientRect();
    const image = document.querySelector('[data-colour=blue]')!.getBoundingClientRect();
    const left = Math.max(0, Math.min(card.left, image.left) - 16);
    const top = Math.max(0, Math.min(card.top, image.top) - 16);
    return { x: left, y: top, width: Math.max(card.right, image.right) + 16 - left, height: Math.max(card.bottom, image.bottom) + 16 - top };
  });
  await harness.raw(page).screenshot({ path, clip: box });
}
