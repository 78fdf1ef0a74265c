// Sends the page's Referer with the background's image requests. Sites with hotlink protection
// answer 403 to requests without their own pages as referrer, and a fetch from an extension
// service worker cannot set a cross-site Referer itself (Chrome silently drops the `referrer`
// option). A declarativeNetRequest session rule, added just for the duration of one request and
// scoped to requests the extension itself makes (its own origin as initiator, no tab), sets the
// header in Chrome and Firefox alike; pages' own requests are never touched.
import browser from 'webextension-polyfill';
import type { ReferrerPolicyToken } from '../referrer-policy';

/** Rule ids this module owns; any left over from a previous background instance are removed. */
const FIRST_RULE_ID = 1_000_000;
const RULE_ID_SPAN = 100_000;

let nextRuleId = FIRST_RULE_ID;
const inFlightByUrl = new Map<string, Promise<unknown>>();
let ready: Promise<void> | null = null;

type Dnr = typeof browser.declarativeNetRequest;

function dnr(): Dnr | undefined {
  return (browser as { declarativeNetRequest?: Dnr }).declarativeNetRequest;
}

/** Longer referrers are cut to their origin, as browsers do. */
const MAX_REFERRER_LENGTH = 4096;

/** https, wss and the loopback hosts: a referrer from these is not sent to plain-http addresses. */
function isTrustworthy(url: URL): boolean {
  if (url.protocol === 'https:' || url.protocol === 'wss:') return true;
  const host = url.hostname;
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
}

/**
 * The Referer a browser sends for an image on `pageUrl` under `policy` (the element's
 * referrerpolicy attribute, else the document's; the default is strict-origin-when-cross-origin),
 * following "determine request's referrer" of the Referrer Policy spec. Null for none, and for
 * non-web pages.
 */
export function referrerFor(pageUrl: string | undefined, imageUrl: string, policy: ReferrerPolicyToken = 'strict-origin-when-cross-origin'): string | null {
  if (!pageUrl) return null;
  let page: URL;
  let image: URL;
  try {
    page = new URL(pageUrl);
    image = new URL(imageUrl);
  } catch {
    return null;
  }
  if (!/^https?:$/.test(page.protocol) || !/^https?:$/.test(image.protocol)) return null;
  page.hash = '';
  page.username = '';
  page.password = '';
  const origin = `${page.origin}/`;
  const full = page.href.length > MAX_REFERRER_LENGTH ? origin : page.href;
  const sameOrigin = page.origin === image.origin;
  const downgrade = isTrustworthy(page) && !isTrustworthy(image);
  switch (policy) {
    case 'no-referrer':
      return null;
    case 'origin':
      return origin;
    case 'unsafe-url':
      return full;
    case 'strict-origin':
      return downgrade ? null : origin;
    case 'same-origin':
      return sameOrigin ? full : null;
    case 'origin-when-cross-origin':
      return sameOrigin ? full : origin;
    case 'no-referrer-when-downgrade':
      return downgrade ? null : full;
    case 'strict-origin-when-cross-origin':
      return sameOrigin ? full : downgrade ? null : origin;
  }
}

/**
 * A urlFilter that matches exactly `url`. urlFilter has no escaping; its special characters
 * (*, ^, |) become the wildcard, which still matches them, so the rule is at most slightly wider.
 */
export function exactUrlFilter(url: string): string {
  return `|${url.replace(/[*^|]/g, '*')}|`;
}

function allocateRuleId(): number {
  const id = nextRuleId;
  nextRuleId = FIRST_RULE_ID + ((nextRuleId - FIRST_RULE_ID + 1) % RULE_ID_SPAN);
  return id;
}

function removeLeftovers(api: Dnr): Promise<void> {
  ready ??= api
    .getSessionRules()
    .then((rules) => {
      const stale = rules.map((r) => r.id).filter((id) => id >= FIRST_RULE_ID && id < FIRST_RULE_ID + RULE_ID_SPAN);
      return stale.length > 0 ? api.updateSessionRules({ removeRuleIds: stale }) : undefined;
    })
    .catch(() => undefined);
  return ready;
}

/** Runs `request` (a fetch of `url` by this extension) with `Referer: referrer` set on it. */
export async function withReferrer<T>(url: string, referrer: string | null, request: () => Promise<T>): Promise<T> {
  const api = dnr();
  if (!referrer || !api) return request();
  // Two pages asking for one URL at once must not get each other's referrer: one at a time per URL.
  while (inFlightByUrl.has(url)) await inFlightByUrl.get(url)!.catch(() => undefined);
  const run = (async () => {
    await removeLeftovers(api);
    const id = allocateRuleId();
    let added = false;
    try {
      await api.updateSessionRules({
        removeRuleIds: [id],
        addRules: [
          {
            id,
            priority: 1,
            condition: {
              urlFilter: exactUrlFilter(url),
              initiatorDomains: [new URL(browser.runtime.getURL('')).host],
              tabIds: [-1],
              resourceTypes: ['xmlhttprequest'],
            },
            action: { type: 'modifyHeaders', requestHeaders: [{ header: 'referer', operation: 'set', value: referrer }] },
          },
        ],
      });
      added = true;
    } catch (error) {
      // Without the rule the request still goes out; only hotlink-protected sites will refuse it.
      console.warn('MobileCLIP Lens: could not set the referrer rule', error);
    }
    try {
      return await request();
    } finally {
      if (added) await api.updateSessionRules({ removeRuleIds: [id] }).catch(() => undefined);
    }
  })();
  inFlightByUrl.set(url, run);
  try {
    return await run;
  } finally {
    if (inFlightByUrl.get(url) === run) inFlightByUrl.delete(url);
  }
}
