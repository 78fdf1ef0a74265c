import { describe, expect, it } from 'vitest';
import { Deadline, DeadlineError, withDeadline } from './deadline';

describe('deadlines', () => {
  it('passes the answer through in time, and a DeadlineError once the time is up', async () => {
    expect(await withDeadline(Promise.resolve(7), 100, 'x')).toBe(7);
    await expect(withDeadline(Promise.reject(new Error('boom')), 100, 'x')).rejects.toThrow('boom');
    const late = await withDeadline(new Promise(() => undefined), 20, 'the page').catch((e: unknown) => e);
    expect(late).toBeInstanceOf(DeadlineError);
    expect((late as Error).message).toBe('the page: no answer within 20 ms');
  });

  it('steps share one budget: a later step gets what is left, and the error names the whole budget', async () => {
    let now = 1_000;
    const deadline = new Deadline(5_000, () => now);
    expect(await deadline.run(Promise.resolve('bytes'), 'loading')).toBe('bytes');
    now += 6_000;
    const error = await deadline.run(new Promise(() => undefined), 'decoding').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toBe('decoding: no answer within 5 s');
  });

  it('work that waited past the deadline is not started at all', async () => {
    let now = 1_000;
    const deadline = new Deadline(5_000, () => now);
    let started = 0;
    const work = async () => ++started;
    expect(await deadline.start(work, 'decoding')).toBe(1);
    now += 6_000;
    const error = await deadline.start(work, 'decoding').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toBe('decoding: no answer within 5 s');
    expect(started).toBe(1);
  });
});
