import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SCAN_INTERVAL_MS, watchPage } from './watch';

// watchPage builds its MutationObserver up front; these tests drive scanSoon directly.
class NoObserver {
  observe(): void {}
  disconnect(): void {}
}

describe('watchPage scan throttle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('MutationObserver', NoObserver);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  /** A scan that takes `ms` of the page's time, recording when it started. */
  function scans(ms: number) {
    const started: number[] = [];
    const scan = () => {
      started.push(performance.now());
      return ms === 0 ? Promise.resolve() : new Promise<void>((resolve) => setTimeout(resolve, ms));
    };
    return { started, watcher: watchPage({} as Document, scan) };
  }

  it('scans the first change after a quiet spell at once, and changes during the interval once it is over', async () => {
    const { started, watcher } = scans(20);
    const t0 = performance.now();
    watcher.scanSoon();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([t0]);
    await vi.advanceTimersByTimeAsync(20); // the scan ends at t0 + 20
    watcher.scanSoon();
    watcher.scanSoon();
    await vi.advanceTimersByTimeAsync(SCAN_INTERVAL_MS - 1);
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual([t0, t0 + 20 + SCAN_INTERVAL_MS]);
    // Quiet again: the next change is scanned at once.
    await vi.advanceTimersByTimeAsync(5_000);
    const later = performance.now();
    watcher.scanSoon();
    await vi.advanceTimersByTimeAsync(0);
    expect(started.at(-1)).toBe(later);
  });

  it('counts the interval from the end of a long scan, so a page that never stops changing is not scanned back to back', async () => {
    const { started, watcher } = scans(1_000);
    const t0 = performance.now();
    watcher.scanSoon();
    await vi.advanceTimersByTimeAsync(0);
    // Changes all through the scan.
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(100);
      watcher.scanSoon();
    }
    expect(started).toEqual([t0]);
    await vi.advanceTimersByTimeAsync(SCAN_INTERVAL_MS - 1);
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual([t0, t0 + 1_000 + SCAN_INTERVAL_MS]);
  });

  it('keeps an explicit delay, and an explicit zero runs at once even within the interval', async () => {
    const { started, watcher } = scans(0);
    watcher.scanSoon(2_000);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(started).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toHaveLength(1);
    watcher.scanSoon(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toHaveLength(2);
  });
});
