import { afterEach, describe, expect, it, vi } from 'vitest';
import { Announcer, ANNOUNCE_EVERY_MS, progressSentence } from './announcer';

/** A stand-in for the live region: records every text it was given. */
function region() {
  const said: string[] = [];
  return { said, el: { set textContent(text: string) { said.push(text); } } as unknown as HTMLElement };
}

describe('announcer', () => {
  afterEach(() => vi.useRealTimers());

  it('speaks at most every ANNOUNCE_EVERY_MS, always the latest, never the same twice', () => {
    vi.useFakeTimers();
    const { said, el } = region();
    const announcer = new Announcer(el);
    announcer.say('1 of 100');
    // A view every 150 ms for 12 s, as the popup gets while a page indexes.
    for (let i = 2; i <= 80; i++) {
      vi.advanceTimersByTime(150);
      announcer.say(`${i} of 100`);
    }
    vi.advanceTimersByTime(ANNOUNCE_EVERY_MS);
    expect(said[0]).toBe('1 of 100');
    expect(said.at(-1)).toBe('80 of 100');
    expect(said.length).toBeLessThanOrEqual(Math.ceil((80 * 150) / ANNOUNCE_EVERY_MS) + 1);
    expect(said.length).toBeGreaterThanOrEqual(3);
    announcer.say('80 of 100');
    vi.advanceTimersByTime(ANNOUNCE_EVERY_MS * 2);
    expect(said.at(-1)).toBe('80 of 100');
    expect(said.filter((s) => s === '80 of 100')).toHaveLength(1);
  });

  it('words the progress, the end, and failures', () => {
    expect(progressSentence({ found: 0, indexed: 0, failed: 0, pending: 0 })).toBe('');
    expect(progressSentence({ found: 9, indexed: 3, failed: 0, pending: 6 })).toBe('Indexing: 3 of 9 images done.');
    expect(progressSentence({ found: 1, indexed: 1, failed: 0, pending: 0 })).toBe("The page's one image is indexed.");
    expect(progressSentence({ found: 1200, indexed: 1200, failed: 0, pending: 0 })).toBe('All 1,200 images indexed.');
    expect(progressSentence({ found: 9, indexed: 7, failed: 2, pending: 0 })).toBe('7 images indexed, 2 failed.');
  });
});
