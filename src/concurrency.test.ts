import { describe, expect, it } from 'vitest';
import { Limiter, PriorityLimiter } from './concurrency';

describe('Limiter', () => {
  it('never runs more than its limit at once and runs every task in order of arrival', async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const tasks = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return i * 10;
      }),
    );
    // Release tasks one at a time as they start; each release lets exactly one more start.
    for (let released = 0; released < 5; released++) {
      await new Promise((r) => setTimeout(r, 0));
      releases.shift()!();
    }
    expect(await Promise.all(tasks)).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
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
    let running = 0;
    let peak = 0;
    const started: string[] = [];
    const releases: (() => void)[] = [];
    const task = (name: string) => async () => {
      started.push(name);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      return name;
    };
    const priorities: [string, number][] = [['a', 5], ['b', 9], ['c', 7], ['d', 1], ['e', 7], ['f', 3]];
    const tasks = priorities.map(([name, priority]) => limiter.run(priority, task(name)));
    for (let released = 0; released < priorities.length; released++) {
      await new Promise((r) => setTimeout(r, 0));
      releases.shift()!();
    }
    expect(await Promise.all(tasks)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(peak).toBe(2);
    // a and b took the two places at once; the rest waited and went by priority.
    expect(started).toEqual(['a', 'b', 'd', 'f', 'c', 'e']);
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
