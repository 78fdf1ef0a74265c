// The extension's own image requests carry no more than the page's: an audit with a server that
// sets SameSite=Strict, Lax and None cookies on 127.0.0.1 and logs the Cookie and Referer of every
// image request. The page's own <img> loads arrive with Sec-Fetch-Dest: image, the background's
// fetches with Sec-Fetch-Dest: empty, so both can be compared per image.
//   same origin              127.0.0.1:A page, 127.0.0.1:A image
//   same site, other origin  127.0.0.1:B page (another port: the same site, cookies ignore ports)
//   cross site               localhost:B page (127.0.0.1 and localhost are different sites)
// each with the default policy, <meta name=referrer content=no-referrer>, and referrerpolicy attributes.
import { describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox, type Harness, type HPage } from './browsers';
import type { LoggedRequest, TestServer } from './server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, requireTestBuild, useServerAndBrowser, waitUntil } from './test-build';

const FIREFOX_UUID = '6b0f3e2a-1c4d-4e5f-9a7b-8c9d0e1f2a3b';

interface Case {
  name: string;
  /** Which origin serves the page: 'origin' (A), 'sameSite' (127.0.0.1:B), 'crossSite' (localhost:B). */
  page: 'origin' | 'sameSite' | 'crossSite';
  meta?: string;
  /** The <img referrerpolicy> attribute. */
  attribute?: string;
  format?: 'png' | 'svg';
  /** Expected on the extension's request. */
  cookies: 'page-site' | 'none';
  referrer: 'full' | 'origin' | 'none';
}

const CASES: Case[] = [
  { name: 'same-origin-default', page: 'origin', cookies: 'page-site', referrer: 'full' },
  { name: 'same-origin-meta-no-referrer', page: 'origin', meta: 'no-referrer', cookies: 'page-site', referrer: 'none' },
  { name: 'same-origin-attr-origin', page: 'origin', attribute: 'origin', cookies: 'page-site', referrer: 'origin' },
  { name: 'same-origin-attr-no-referrer', page: 'origin', attribute: 'no-referrer', cookies: 'page-site', referrer: 'none' },
  { name: 'same-site-default', page: 'sameSite', cookies: 'page-site', referrer: 'origin' },
  { name: 'same-site-meta-same-origin', page: 'sameSite', meta: 'same-origin', cookies: 'page-site', referrer: 'none' },
  { name: 'cross-site-default', page: 'crossSite', cookies: 'none', referrer: 'origin' },
  { name: 'cross-site-meta-no-referrer', page: 'crossSite', meta: 'no-referrer', cookies: 'none', referrer: 'none' },
  // Firefox sends pages' own cross-site requests no more than the default: neither do we, anywhere.
  { name: 'cross-site-attr-unsafe-url', page: 'crossSite', attribute: 'unsafe-url', cookies: 'none', referrer: 'origin' },
  { name: 'cross-site-svg', page: 'crossSite', format: 'svg', cookies: 'none', referrer: 'origin' },
];

const cookieNames = (header: string | null) => (header ?? '').split(/;\s*/).filter(Boolean).map((c) => c.split('=')[0]).sort();

function pageOrigin(server: TestServer, which: Case['page']): string {
  if (which === 'origin') return server.origin;
  if (which === 'sameSite') return server.crossOrigin;
  return server.crossOrigin.replace('127.0.0.1', 'localhost');
}

function privacyTests(name: string, launch: () => Promise<Harness>) {
  describe(name, () => {
    const { server, harness } = useServerAndBrowser(launch);

    it('sends no Strict/Lax cookie cross-site and no referrer beyond the page\'s policy', async () => {
      const cookiePage = await harness().openPage(`${server().origin}/set-cookies`);
      await cookiePage.close();
      const ofCase = (name: string, dest: string): LoggedRequest[] =>
        server().log.filter((r) => r.dest === dest && r.url.endsWith(`case=${name}`) && r.server === server().origin);
      const pages: HPage[] = [];
      const urls = new Map<string, { page: string; image: string }>();
      for (const [i, c] of CASES.entries()) {
        // Each case its own colour and tag: its requests are told apart in the log.
        const image = `${server().origin}/img/solid/${(0x102030 + i * 0x0b0d07).toString(16)}.${c.format ?? 'png'}?case=${c.name}`;
        const params = new URLSearchParams();
        if (c.meta) params.set('meta', c.meta);
        params.append('img', c.attribute ? `${image}|${c.attribute}` : image);
        params.set('case', c.name);
        const page = `${pageOrigin(server(), c.page)}/generated/page.html?${params}`;
        urls.set(c.name, { page, image });
        pages.push(await harness().openPage(page));
        // Background indexing serves only the tab in front: its image is fetched before the next page hides it.
        await waitUntil(`the extension fetched ${c.name}'s image`, async () => ofCase(c.name, 'empty').length, (n) => n > 0, 60_000);
      }
      await waitUntil(
        'the extension fetched every case\'s image',
        async () => CASES.filter((c) => ofCase(c.name, 'empty').length === 0).map((c) => c.name),
        (missing) => missing.length === 0,
        60_000,
      );

      const outcomes = CASES.map((c) => {
        const { page } = urls.get(c.name)!;
        const ours = ofCase(c.name, 'empty');
        const theirs = ofCase(c.name, 'image')[0];
        const pageUrl = new URL(page);
        const expectedReferrer = c.referrer === 'none' ? null : c.referrer === 'origin' ? `${pageUrl.origin}/` : page;
        return {
          name: c.name,
          cookies: [...new Set(ours.flatMap((r) => cookieNames(r.cookie)))],
          pageCookies: cookieNames(theirs?.cookie ?? null),
          referrers: [...new Set(ours.map((r) => r.referer))],
          pageReferrer: theirs?.referer ?? null,
          expectedReferrer,
        };
      });
      console.log(`[${name}] request audit:\n${outcomes.map((o) => JSON.stringify(o)).join('\n')}`);
      for (const [i, c] of CASES.entries()) {
        const o = outcomes[i];
        // Never a cookie the page's own request did not carry.
        for (const cookie of o.cookies) expect({ case: c.name, cookie, sentByPage: o.pageCookies.includes(cookie) }).toEqual({ case: c.name, cookie, sentByPage: true });
        if (c.cookies === 'none') expect({ case: c.name, cookies: o.cookies }).toEqual({ case: c.name, cookies: [] });
        else expect({ case: c.name, cookies: o.cookies }).toEqual({ case: c.name, cookies: expect.arrayContaining(['lens_lax', 'lens_strict']) });
        expect({ case: c.name, referrers: o.referrers }).toEqual({ case: c.name, referrers: [o.expectedReferrer] });
        // No more than the page's own request (where the browser logged one): the same, its origin, or nothing.
        const page = o.pageReferrer;
        const within = (r: string | null) => r === null || r === page || (page !== null && r === `${new URL(page).origin}/`);
        if (ofCase(c.name, 'image').length > 0) expect({ case: c.name, referrers: o.referrers.filter((r) => !within(r)) }).toEqual({ case: c.name, referrers: [] });
      }
      for (const page of pages) await page.close();
    });
  });
}

requireTestBuild();

privacyTests('Chromium', () => launchChromium(CHROME_DIR));
privacyTests('Firefox ESR', () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: 'src/options/options.html' }));
