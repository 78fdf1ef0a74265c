import { describe, expect, it, vi } from 'vitest';

// The rules module talks to declarativeNetRequest through the polyfill: a recording stand-in.
const dnr = vi.hoisted(() => {
  const rules = new Map<number, { condition: Record<string, unknown>; action: Record<string, unknown> }>();
  const log: string[] = [];
  return {
    rules,
    log,
    api: {
      getSessionRules: async () => [...rules].map(([id, r]) => ({ id, ...r })),
      updateSessionRules: async ({ addRules = [], removeRuleIds = [] }: { addRules?: { id: number; condition: never; action: never }[]; removeRuleIds?: number[] }) => {
        for (const id of removeRuleIds) if (rules.delete(id)) log.push(`remove ${id}`);
        for (const rule of addRules) {
          rules.set(rule.id, { condition: rule.condition, action: rule.action });
          log.push(`add ${rule.id}`);
        }
      },
    },
  };
});
vi.mock('webextension-polyfill', () => ({
  default: { declarativeNetRequest: dnr.api, runtime: { getURL: (p: string) => `chrome-extension://abcdefgh/${p}` } },
}));

const { exactUrlFilter, referrerFor, withReferrer } = await import('./referrer-rules');

describe('referrer policy', () => {
  it('sends what a browser sends by default (strict-origin-when-cross-origin)', () => {
    expect(referrerFor('https://shop.test/item/7?ref=x#top', 'https://shop.test/img/7.jpg')).toBe('https://shop.test/item/7?ref=x');
    expect(referrerFor('https://shop.test/item/7?ref=x', 'https://cdn.test/7.jpg')).toBe('https://shop.test/');
    expect(referrerFor('https://shop.test/item/7', 'http://cdn.test/7.jpg')).toBeNull();
    expect(referrerFor('http://shop.test/item/7', 'https://cdn.test/7.jpg')).toBe('http://shop.test/');
    expect(referrerFor('https://user:pw@shop.test/a', 'https://shop.test/b.png')).toBe('https://shop.test/a');
    expect(referrerFor('about:blank', 'https://cdn.test/7.jpg')).toBeNull();
    expect(referrerFor(undefined, 'https://cdn.test/7.jpg')).toBeNull();
  });

  it('follows the page\'s policy, as the spec\'s "determine request\'s referrer" does', () => {
    const page = 'https://shop.test/item/7?ref=x#top';
    const same = 'https://shop.test/img/7.jpg';
    const cross = 'https://cdn.test/7.jpg';
    const down = 'http://cdn.test/7.jpg';
    const full = 'https://shop.test/item/7?ref=x';
    const origin = 'https://shop.test/';
    const table: [string, (string | null)[]][] = [
      //                                   same    cross   downgrade
      ['no-referrer', [null, null, null]],
      ['origin', [origin, origin, origin]],
      ['unsafe-url', [full, full, full]],
      ['strict-origin', [origin, origin, null]],
      ['same-origin', [full, null, null]],
      ['origin-when-cross-origin', [full, origin, origin]],
      ['no-referrer-when-downgrade', [full, full, null]],
      ['strict-origin-when-cross-origin', [full, origin, null]],
    ];
    for (const [policy, expected] of table) {
      const got = [same, cross, down].map((image) => referrerFor(page, image, policy as never));
      expect({ policy, got }).toEqual({ policy, got: expected });
    }
    // Loopback addresses count as secure: http://127.0.0.1 → http://example.test is a downgrade.
    expect(referrerFor('http://127.0.0.1:8080/p', 'http://example.test/a.png', 'strict-origin')).toBeNull();
    expect(referrerFor('http://127.0.0.1:8080/p', 'http://localhost:9/a.png', 'strict-origin')).toBe('http://127.0.0.1:8080/');
    // Different ports are different origins: only the origin goes.
    expect(referrerFor('http://127.0.0.1:8080/p?q', 'http://127.0.0.1:9090/a.png')).toBe('http://127.0.0.1:8080/');
    // An overlong page URL is cut to its origin.
    expect(referrerFor(`https://shop.test/${'a'.repeat(5000)}`, same, 'unsafe-url')).toBe(origin);
  });

  it('filters exactly one URL, special characters widened to the wildcard', () => {
    expect(exactUrlFilter('https://a.test/x.png?w=1')).toBe('|https://a.test/x.png?w=1|');
    expect(exactUrlFilter('https://a.test/x*^|.png')).toBe('|https://a.test/x***.png|');
  });
});

describe('withReferrer', () => {
  it('sets the header for just this request of this extension, and removes the rule afterwards', async () => {
    let seen: unknown;
    const result = await withReferrer('https://cdn.test/a.png', 'https://shop.test/', async () => {
      seen = [...dnr.rules.values()][0];
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual({
      condition: { urlFilter: '|https://cdn.test/a.png|', initiatorDomains: ['abcdefgh'], tabIds: [-1], resourceTypes: ['xmlhttprequest'] },
      action: { type: 'modifyHeaders', requestHeaders: [{ header: 'referer', operation: 'set', value: 'https://shop.test/' }] },
    });
    expect(dnr.rules.size).toBe(0);
  });

  it('removes the rule when the request fails, and adds none without a referrer', async () => {
    await expect(withReferrer('https://cdn.test/b.png', 'https://shop.test/', async () => Promise.reject(new Error('offline')))).rejects.toThrow('offline');
    expect(dnr.rules.size).toBe(0);
    dnr.log.length = 0;
    await withReferrer('https://cdn.test/b.png', null, async () => undefined);
    expect(dnr.log).toEqual([]);
  });

  it('never lets two pages fetching one URL share a rule: one after the other', async () => {
    const during: number[] = [];
    let release!: () => void;
    const first = withReferrer('https://cdn.test/c.png', 'https://one.test/', () => {
      during.push(dnr.rules.size);
      return new Promise<void>((r) => (release = r));
    });
    const second = withReferrer('https://cdn.test/c.png', 'https://two.test/', async () => {
      during.push(dnr.rules.size);
      return [...dnr.rules.values()][0].action;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(during).toEqual([1]); // the second waits for the first
    release();
    await first;
    expect(await second).toMatchObject({ requestHeaders: [{ value: 'https://two.test/' }] });
    expect(during).toEqual([1, 1]);
  });
});
