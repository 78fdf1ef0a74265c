import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { LabelVectors, PROMPTS_PER_CHUNK, type LabelJobProgress } from './label-vectors';
import type { LabelSet } from '../engine/label-sets';

const set = (labels: string[], templates = ['a {}', 'the {}']): LabelSet => ({ id: 'user-t', name: 'Test', labels, templates, builtIn: false });

function fakeModel(id = 'm') {
  const calls: string[][] = [];
  return {
    calls,
    model: {
      id,
      async embedTexts(texts: string[]) {
        calls.push(texts);
        return texts.map((t) => Float32Array.from([t.length, 1, 0]));
      },
    },
  };
}

function memoryStore() {
  const map = new Map<string, Float32Array>();
  return { map, load: async (m: string, k: string) => map.get(`${m}/${k}`), save: async (m: string, k: string, v: Float32Array) => void map.set(`${m}/${k}`, v) };
}

describe('label vectors', () => {
  it('embeds a set once per model, in chunks, with progress, and one label vector per label', async () => {
    const labels = Array.from({ length: 100 }, (_, i) => `label ${i}`);
    const progress: LabelJobProgress[][] = [];
    const vectors = new LabelVectors(memoryStore(), (jobs) => progress.push(jobs));
    const { model, calls } = fakeModel();
    const out = await vectors.vectors(model, set(labels));
    expect(out).toHaveLength(100);
    expect(Math.hypot(...out[0])).toBeCloseTo(1, 5);
    expect(calls.every((c) => c.length <= PROMPTS_PER_CHUNK)).toBe(true);
    expect(calls.flat()).toHaveLength(200);
    const seen = progress.flat().map((j) => j.done);
    expect(seen[0]).toBe(0);
    expect(Math.max(...seen)).toBe(200);
    expect(progress.at(-1)).toEqual([]); // the job ended
    await vectors.vectors(model, set(labels));
    expect(calls.flat()).toHaveLength(200); // memory answered
    await vectors.vectors(fakeModel('other').model, set(labels));
  });

  it('answers from the store after a restart, and asks once when asked twice at once', async () => {
    const store = memoryStore();
    const first = fakeModel();
    const a = new LabelVectors(store);
    const [x, y] = await Promise.all([a.vectors(first.model, set(['cat', 'dog'])), a.vectors(first.model, set(['cat', 'dog']))]);
    expect(x).toBe(y);
    expect(first.calls).toHaveLength(1);
    const again = fakeModel();
    const restored = await new LabelVectors(store).vectors(again.model, set(['cat', 'dog']));
    expect(again.calls).toHaveLength(0);
    expect([...restored[1]]).toEqual([...x[1]]);
  });

  it('a set with other templates or labels is embedded again', async () => {
    const vectors = new LabelVectors(memoryStore());
    const { model, calls } = fakeModel();
    await vectors.vectors(model, set(['cat']));
    await vectors.vectors(model, set(['cat'], ['{} photo']));
    await vectors.vectors(model, set(['cat', 'dog']));
    expect(calls).toHaveLength(3);
  });

  it('a small set is answered while a large one is still embedding (the engine is shared a chunk at a time)', async () => {
    const vectors = new LabelVectors(memoryStore());
    // One engine: calls run one after another, each a macrotask, as the real engine's queue does.
    let queue = Promise.resolve();
    const model = {
      id: 'm',
      embedTexts: (texts: string[]) => {
        const run = queue.then(() => new Promise<Float32Array[]>((resolve) => setTimeout(() => resolve(texts.map((t) => Float32Array.from([t.length, 1]))), 1)));
        queue = run.then(() => undefined);
        return run;
      },
    };
    const big = vectors.vectors(model, set(Array.from({ length: 1000 }, (_, i) => `thing ${i}`), ['a {}', 'b {}', 'c {}', 'd {}', 'e {}', 'f {}', 'g {}']));
    await new Promise((r) => setTimeout(r, 5));
    await vectors.vectors(model, set(['cat', 'dog']));
    const [job] = vectors.progress();
    expect(job.total).toBe(7000);
    expect(job.done).toBeLessThan(7000 / 2);
    expect(await big).toHaveLength(1000);
  });
});
