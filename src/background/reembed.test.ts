import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../store/memory-store';
import { image, page, sha, unitVector } from '../store/test-fixtures';
import type { EmbedRequest, EmbedResult } from './embedding-pipeline';
import type { LoadedModel } from './engine-host';
import { pagesWithout, ReembedJob, type ReembedProgress } from './reembed';

/** What each address serves now: a picture's hash, or nothing (gone). */
function fakePipeline(store: ReturnType<typeof createMemoryStore>, serves: Record<string, number | null>, modelId = 'new') {
  const requests: EmbedRequest[] = [];
  const inferred: string[] = [];
  const pipeline = {
    model: async () => ({ spec: { id: modelId } }) as unknown as LoadedModel,
    async embed(request: EmbedRequest): Promise<EmbedResult> {
      requests.push(request);
      const served = serves[request.url];
      if (served === null || served === undefined) throw new Error('HTTP 404');
      if (request.isDuplicate?.(sha(served))) return { kind: 'duplicate', sha256: sha(served) };
      inferred.push(request.url);
      const embedding = unitVector(served);
      await store.putEmbedding(modelId, sha(served), embedding);
      return { kind: 'embedding', embedding, modelId, source: 'model' };
    },
  };
  return { pipeline, requests, inferred };
}

async function remembered() {
  const store = createMemoryStore();
  await store.putPage(page('https://a.test/', [image(1), image(2)], 3000, 'old'));
  await store.putPage(page('https://b.test/', [image(3)], 2000, 'old'));
  await store.putPage(page('https://c.test/', [image(4)], 1000, 'new'));
  return store;
}

describe('ReembedJob', () => {
  it('re-embeds the pages of another model from their addresses, counting what cannot be fetched again', async () => {
    const store = await remembered();
    // 1 is still served; 2 is gone; 3's address now serves other bytes (picture 9).
    const { pipeline, requests, inferred } = fakePipeline(store, { 'https://cdn.test/1.jpg': 1, 'https://cdn.test/2.jpg': null, 'https://cdn.test/3.jpg': 9 });
    const seen: ReembedProgress[] = [];
    const added: string[] = [];
    expect(await pagesWithout(store, 'new')).toEqual(['https://a.test/', 'https://b.test/']);
    const job = new ReembedJob({ store, pipeline, busy: () => false, onProgress: (p) => seen.push(p), reembedded: (p, e) => added.push(p.url, ...e.keys()) });
    const final = await job.run();
    expect(final).toEqual({ modelId: 'new', state: 'done', pagesDone: 2, pagesTotal: 2, imagesEmbedded: 1, unreachable: 2, error: null });
    expect(inferred).toEqual(['https://cdn.test/1.jpg']); // other bytes never reach the model
    expect(requests.every((r) => r.tab === undefined)).toBe(true); // no tab: a plain request, no page's authority
    expect((await store.getPage('https://a.test/'))!.modelIds).toEqual(['old', 'new']);
    expect((await store.getPage('https://b.test/'))!.modelIds).toEqual(['old']);
    expect(await pagesWithout(store, 'new')).toEqual(['https://b.test/']);
    expect(added).toEqual(['https://a.test/', sha(1)]);
    expect(seen.map((p) => p.pagesDone)).toContain(1);
    expect(job.finished).toBe(true);
  });

  it('does not fetch a picture the model already embedded', async () => {
    const store = await remembered();
    await store.putEmbedding('new', sha(3), unitVector(3));
    const { pipeline, requests } = fakePipeline(store, { 'https://cdn.test/1.jpg': 1, 'https://cdn.test/2.jpg': 2 });
    const final = await new ReembedJob({ store, pipeline, busy: () => false, onProgress: () => undefined }).run();
    expect(requests.map((r) => r.url)).toEqual(['https://cdn.test/1.jpg', 'https://cdn.test/2.jpg']);
    expect(final).toMatchObject({ state: 'done', imagesEmbedded: 2, unreachable: 0 });
    expect(await pagesWithout(store, 'new')).toEqual([]);
  });

  it('pauses while the indexer is busy with the person\'s tabs, and goes on after', async () => {
    const store = await remembered();
    const { pipeline, requests } = fakePipeline(store, { 'https://cdn.test/1.jpg': 1, 'https://cdn.test/2.jpg': 2, 'https://cdn.test/3.jpg': 3 });
    let busyChecks = 0;
    const states: string[] = [];
    const job = new ReembedJob({
      store,
      pipeline,
      pauseMs: 1,
      // Busy for the first picture's five checks: nothing may be fetched meanwhile.
      busy: () => {
        busyChecks++;
        if (busyChecks <= 5) expect(requests).toHaveLength(0);
        return busyChecks <= 5;
      },
      onProgress: (p) => states.push(p.state),
    });
    const final = await job.run();
    expect(states.filter((s, i) => s !== states[i - 1])).toEqual(['running', 'paused', 'running', 'done']);
    expect(final).toMatchObject({ pagesDone: 2, imagesEmbedded: 3 });
  });

  it('stops when cancelled, between pictures', async () => {
    const store = await remembered();
    const { pipeline, requests } = fakePipeline(store, { 'https://cdn.test/1.jpg': 1, 'https://cdn.test/2.jpg': 2, 'https://cdn.test/3.jpg': 3 });
    const job = new ReembedJob({ store, pipeline, busy: () => false, onProgress: (p) => p.imagesEmbedded === 1 && job.cancel() });
    const final = await job.run();
    expect(final).toMatchObject({ state: 'cancelled', pagesDone: 0, imagesEmbedded: 1 });
    expect(requests).toHaveLength(1);
    expect(await pagesWithout(store, 'new')).toHaveLength(2);
  });

  it('reports a store failure as a failed job with its reason', async () => {
    const store = await remembered();
    store.recentPages = async () => Promise.reject(new Error('disk gone'));
    const { pipeline } = fakePipeline(store, {});
    const final = await new ReembedJob({ store, pipeline, busy: () => false, onProgress: () => undefined }).run();
    expect(final.state).toBe('failed');
    expect(final.error).toMatch(/disk gone/);
  });
});
