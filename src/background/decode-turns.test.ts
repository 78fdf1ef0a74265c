import { describe, expect, it } from 'vitest';
import { DECODES_BETWEEN_RUNS, DecodeTurns, modelTakesEveryCore } from './decode-turns';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('decode turns', () => {
  it('the model takes every core only on WASM with as many threads as cores', () => {
    expect(modelTakesEveryCore({ backend: 'wasm', threads: 2 }, 2)).toBe(true);
    expect(modelTakesEveryCore({ backend: 'wasm', threads: 1 }, 2)).toBe(false);
    expect(modelTakesEveryCore({ backend: 'webgpu', threads: null }, 2)).toBe(false);
  });

  it('gives a few turns at once, in the order asked, and none while a run takes every core', async () => {
    let changes = 0;
    const turns = new DecodeTurns(() => changes++);
    const started: number[] = [];
    const ends: (() => void)[] = [];
    turns.runStarts(true);
    for (let i = 0; i < 4; i++) void turns.take().then((end) => (started.push(i), ends.push(end)));
    await tick();
    expect(started).toEqual([]);
    expect(turns.pending).toBe(4);
    turns.runEnds();
    await tick();
    expect(started).toEqual([0, 1].slice(0, DECODES_BETWEEN_RUNS));
    turns.runStarts(true);
    ends[0]();
    ends[0]();
    await tick();
    // The turn that ended freed a place, but a run is on: nobody starts, and a second end counts once.
    expect(started).toEqual([0, 1]);
    expect(turns.pending).toBe(3);
    turns.runEnds();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    expect(changes).toBeGreaterThan(0);
  });

  it('a run that leaves cores spare does not hold decodes back', async () => {
    const turns = new DecodeTurns();
    turns.runStarts(false);
    const end = await turns.take();
    expect(turns.pending).toBe(1);
    end();
    expect(turns.pending).toBe(0);
  });
});
