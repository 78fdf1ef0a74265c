import { describe, expect, it, vi } from 'vitest';
import { Gate, KeyedThrottle, Limiter, PriorityLimiter } from './concurrency';

/**
 * Tasks that record their start and how many run at once, and each wait until released:
 * `releaseAll(n)` lets them end one at a time, a tick apart, so each release lets one more start.
 */
function heldTasks<N>() {
  let running = 0;
  const state = { peak: 0, started: [] as N[] };
  const releases: (() => void)[] = [];
  const task =
    <R>(name: N, result: R) =>
    async (): Promise<R> => {
      state.started.push(name);
      running++;
      state.peak = Math.max(state.peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      return result;
    };
  const releaseAll = async (count: number) => {
    for (let released = 0; released < count; released++) {
      await new Promise((r) => setTimeout(r, 0));
      releases.shift()!();
    }
  };
  return { state, task, releaseAll };
}

describe('Limiter', () => {
  it('never runs more than its limit at once and runs every task in order of arrival', async () => {
    const limiter = new Limiter(2);
    const { state, task, releaseAll } = heldTasks<number>();
    const tasks = [0, 1, 2, 3, 4].map((i) => limiter.run(task(i, i * 10)));
    await releaseAll(5);
    expect(await Promise.all(tasks)).toEqual([0, 10, 20, 30, 40]);
    expect(state.peak).toBe(2);
    expect(state.started).toEqual([0, 1, 2, 3, 4]);
  });

  it('frees its slot when a task fails', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });
});

describe('PriorityLimiter', () => {
  it('never runs more than its limit at once; waiting tasks start lowest priority first, equals in arrival order', async () => {
    const limiter = new PriorityLimiter(2);
    const { state, task, releaseAll } = heldTasks<string>();
    const priorities: [string, number][] = [['a', 5], ['b', 9], ['c', 7], ['d', 1], ['e', 7], ['f', 3]];
    const tasks = priorities.map(([name, priority]) => limiter.run(priority, task(name, name)));
    await releaseAll(priorities.length);
    expect(await Promise.all(tasks)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(state.peak).toBe(2);
    // a and b took the two places at once; the rest waited and went by priority.
    expect(state.started).toEqual(['a', 'b', 'd', 'f', 'c', 'e']);
  });

  it('frees its place when a task fails', async () => {
    const limiter = new PriorityLimiter(1);
    await expect(limiter.run(0, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(0, async () => 'next')).toBe('next');
  });
});

describe('Mutex and KeyedMutex', () => {
  it('runs one task at a time per key, in order, past failures', async () => {
    const { Mutex, KeyedMutex } = await import('./concurrency');
    const order: string[] = [];
    const step = (name: string, fail = false) => async () => {
      order.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 1));
      order.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const mutex = new Mutex();
    const results = await Promise.allSettled([mutex.run(step('a', true)), mutex.run(step('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);

    order.length = 0;
    const keyed = new KeyedMutex<string>();
    await Promise.all([keyed.run('x', step('x1')), keyed.run('y', step('y1')), keyed.run('x', step('x2'))]);
    // x2 waits for x1; y1 runs alongside.
    expect(order.indexOf('start x2')).toBeGreaterThan(order.indexOf('end x1'));
    expect(order.indexOf('start y1')).toBeLessThan(order.indexOf('end x1'));
  });
});

describe('Gate', () => {
  /** Whether `promise` has settled once pending callbacks have run. */
  async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    return done;
  }

  it('lets through at once while open; holds while shut, and lets every waiter through when opened', async () => {
    const gate = new Gate();
    expect(await settled(gate.passed())).toBe(true);
    gate.shut(60_000);
    const first = gate.passed();
    const second = gate.passed();
    expect(await settled(first)).toBe(false);
    // Shutting again neither restarts nor replaces the wait.
    gate.shut(60_000);
    expect(gate.passed()).toBe(first);
    gate.open();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(true);
    expect(await settled(gate.passed())).toBe(true);
  });

  it('opens by itself after the longest wait it was shut for', async () => {
    vi.useFakeTimers();
    try {
      const gate = new Gate();
      gate.shut(1_000);
      const waiting = gate.passed();
      await vi.advanceTimersByTimeAsync(999);
      expect(await settled(waiting)).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await settled(waiting)).toBe(true);
      // Shut again afterwards, it holds again; an early open cancels the timer.
      gate.shut(1_000);
      expect(await settled(gate.passed())).toBe(false);
      gate.open();
      expect(await settled(gate.passed())).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('KeyedThrottle', () => {
  it('runs the first call in the next task, later ones once the interval is over, and joins calls while scheduled', () => {
    vi.useFakeTimers();
    try {
      const throttle = new KeyedThrottle<number>(150);
      const runs: number[] = [];
      const task = () => runs.push(Date.now());
      const start = Date.now();
      throttle.schedule(1, task);
      throttle.schedule(1, task);
      vi.advanceTimersByTime(0);
      expect(runs).toEqual([start]);
      // Within the interval: waits for its end, and calls meanwhile join that run.
      vi.advanceTimersByTime(40);
      throttle.schedule(1, task);
      throttle.schedule(1, task);
      vi.advanceTimersByTime(109);
      expect(runs).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(runs).toEqual([start, start + 150]);
      // After a quiet interval: at once again.
      vi.advanceTimersByTime(500);
      throttle.schedule(1, task);
      vi.advanceTimersByTime(0);
      expect(runs).toEqual([start, start + 150, start + 650]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps keys apart, runs urgent calls at once, and forgets a key', () => {
    vi.useFakeTimers();
    try {
      const throttle = new KeyedThrottle<string>(300);
      const runs: string[] = [];
      throttle.schedule('a', () => runs.push('a1'));
      vi.advanceTimersByTime(0);
      throttle.schedule('a', () => runs.push('a2'));
      throttle.schedule('b', () => runs.push('b1'));
      vi.advanceTimersByTime(0);
      expect(runs).toEqual(['a1', 'b1']);
      // An urgent call replaces the scheduled run and does not wait for the interval.
      throttle.schedule('a', () => runs.push('a3'), true);
      vi.advanceTimersByTime(0);
      expect(runs).toEqual(['a1', 'b1', 'a3']);
      throttle.schedule('b', () => runs.push('b2'));
      throttle.forget('b');
      vi.advanceTimersByTime(1_000);
      expect(runs).toEqual(['a1', 'b1', 'a3']);
      throttle.schedule('b', () => runs.push('b3'));
      vi.advanceTimersByTime(0);
      expect(runs).toEqual(['a1', 'b1', 'a3', 'b3']);
    } finally {
      vi.useRealTimers();
    }
  });
});
