import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';

// Nothing stored: the active label set is the built-in everyday one (colours for the fixture model).
vi.mock('webextension-polyfill', () => ({ default: { storage: { local: { get: async () => ({}) } } } }));
const { EmbeddingPipeline, EmbedError, BATCH: BATCH_SIZE, FIRST_BATCH } = await import('./embedding-pipeline');
const { Classifier } = await import('./classification');
const { NeedsVisibleTabError } = await import('./page-bytes');
const { TabState, ensureTab, forgetTab } = await import('./tabs');
const { LabelVectors } = await import('./label-vectors');
const { getModel } = await import('../engine/registry');

import type { FetchedImage } from './image-bytes';
import type { LoadedModel } from './engine-host';
import { preprocess, type RGBAImage } from '../engine/preprocess';
import { l2normalize } from '../engine/similarity';

const spec = getModel('fixture')!;
const plane = 3 * spec.imageSize * spec.imageSize;

/** A fake engine that counts its runs; an image's embedding follows its colour, a text's its length. */
function harness(files: Record<string, number[]>, options: { failInference?: boolean; failModel?: boolean; hang?: string[]; hangDecode?: boolean; deadlineMs?: number } = {}) {
  const runs: number[] = [];
  const fetched: string[] = [];
  const engine = {
    backend: 'wasm' as const,
    threads: 1,
    async embedImages(pixels: Float32Array, count: number) {
      if (options.failInference) throw new Error('out of memory');
      runs.push(count);
      // Unit vectors, as the engine's contract says.
      return Array.from({ length: count }, (_, i) => l2normalize(Float32Array.from({ length: spec.embedDim }, (_, d) => (d < 3 ? pixels[i * plane + d * spec.imageSize ** 2] + 2 : 0))));
    },
    async embedTexts(texts: string[]) {
      return texts.map((t) => Float32Array.from({ length: spec.embedDim }, (_, d) => (d === t.length % 3 ? 1 : 0.1)));
    },
    async dispose() {},
  };
  const model = { spec, engine } as unknown as LoadedModel;
  const pipeline = new EmbeddingPipeline({
    model: async () => {
      if (options.failModel) throw new Error('offline');
      return model;
    },
    imageDeadlineMs: options.deadlineMs,
    async loadBytes({ url }) {
      fetched.push(url);
      if (options.hang?.includes(url)) return new Promise<never>(() => undefined);
      const bytes = files[url];
      if (!bytes) throw new NeedsVisibleTabError();
      return { blob: new Blob([Uint8Array.from(bytes)], { type: 'image/png' }), bytes: Uint8Array.from(bytes), etag: null, lastModified: null } satisfies FetchedImage;
    },
    async prepare({ blob }, modelSpec) {
      if (options.hangDecode) return new Promise<never>(() => undefined);
      const [r, g, b] = new Uint8Array(await blob.arrayBuffer());
      if (r === 0xff && g === 0xff) throw new Error('not an image');
      const image: RGBAImage = { data: new Uint8ClampedArray([r, g, b, 255, r, g, b, 255, r, g, b, 255, r, g, b, 255]), width: 2, height: 2 };
      return { pixels: preprocess(image, modelSpec), preview: null };
    },
  });
  return { pipeline, runs, fetched };
}

function tabShowing(...urls: string[]) {
  const tab = new TabState(1, 'https://a.test/', false);
  tab.updateFrame(0, 'https://a.test/', urls.map((url, top) => ({ url, kind: 'img', width: 10, height: 10, top, visible: true, alt: '' })), 0);
  return tab;
}

function classifierFor(pipeline: InstanceType<typeof EmbeddingPipeline>): InstanceType<typeof Classifier> {
  const stored = new Map<string, Float32Array>();
  return new Classifier(pipeline, new LabelVectors({ load: async (m, k) => stored.get(`${m}/${k}`), save: async (m, k, v) => void stored.set(`${m}/${k}`, v) }));
}

describe('embedding pipeline', () => {
  it('classify of an indexed image runs no image inference, and the tab counts where answers came from', async () => {
    const url = 'https://a.test/red.png';
    const { pipeline, runs, fetched } = harness({ [url]: [200, 10, 10, 1] });
    const tab = tabShowing(url);
    const [entry] = tab.claim(1);
    const indexed = await pipeline.embed({ url, tab, isDuplicate: (sha) => tab.recordBytes(entry, sha) });
    expect(indexed).toMatchObject({ kind: 'embedding', source: 'model', modelId: 'fixture' });
    if (indexed.kind === 'embedding') tab.markIndexed(entry, indexed.embedding, indexed.modelId);
    expect(runs).toEqual([1]);

    const set = { id: 'user-rgb', name: 'RGB', labels: ['red', 'green', 'blue'], templates: ['{}'], builtIn: false };
    const asked = vi.spyOn(pipeline, 'embed');
    const labels = await classifierFor(pipeline).classify(url, set, tab);
    // Someone waits for this one image: it goes before the pages' images.
    expect(asked).toHaveBeenCalledWith(expect.objectContaining({ url, urgent: true }));
    expect(labels.map((l) => l.label).sort()).toEqual(['blue', 'green', 'red']);
    expect(labels.reduce((s, l) => s + l.probability, 0)).toBeCloseTo(1, 5);
    expect(runs).toEqual([1]); // no second inference
    expect(fetched).toEqual([url]); // and no second fetch: the entry's hash found the embedding
    expect(tab.stats).toEqual({ embedded: 1, fromCache: 1 });
  });

  it('labelling the whole page reads the index: groups by top label, largest first, no image inference', async () => {
    const urls = ['https://page.test/r1.png', 'https://page.test/r2.png', 'https://page.test/b.png', 'https://page.test/waiting.png'];
    const { pipeline, runs } = harness({ [urls[0]]: [200, 10, 10, 1], [urls[1]]: [200, 10, 10, 2], [urls[2]]: [10, 10, 200, 3] });
    const tab = ensureTab(7, 'https://a.test/', false);
    tab.updateFrame(0, 'https://a.test/', urls.map((url, top) => ({ url, kind: 'img', width: 10, height: 10, top, visible: true, alt: '' })), 0);
    for (const entry of tab.claim(3)) {
      const result = await pipeline.embed({ url: entry.url, tab });
      if (result.kind === 'embedding') tab.markIndexed(entry, result.embedding, result.modelId);
    }
    const before = runs.length;
    tab.setThumbnail(urls[2], 'data:image/jpeg;base64,AAAA');
    const page = await classifierFor(pipeline).classifyPage(7);
    expect(runs.length).toBe(before);
    // A picture whose preview the background holds says so (the popup shows that preview).
    expect(page.groups.flatMap((g) => g.images).filter((i) => i.preview).map((i) => i.url)).toEqual([urls[2]]);
    expect(page.setId).toBe('everyday');
    expect(page.notIndexed).toBe(1);
    expect(page.groups.reduce((n, g) => n + g.images.length, 0)).toBe(3);
    const sizes = page.groups.map((g) => g.images.length);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    // The two reddish images share a label; the blue one differs from them.
    const groupOf = (url: string) => page.groups.find((g) => g.images.some((i) => i.url === url))!.label;
    expect(groupOf(urls[0])).toBe(groupOf(urls[1]));
    forgetTab(7);
  });

  it('the same bytes at another address are not embedded again, nor twice when asked at once', async () => {
    const bytes = [10, 200, 10, 2];
    const { pipeline, runs } = harness({ 'https://a.test/g.png': bytes, 'https://cdn.test/g.png': bytes, 'https://b.test/g.png': bytes, 'https://c.test/g.png': bytes });
    const first = await pipeline.embed({ url: 'https://a.test/g.png' });
    const second = await pipeline.embed({ url: 'https://cdn.test/g.png' });
    expect(first).toMatchObject({ source: 'model' });
    expect(second).toMatchObject({ source: 'cache' });
    expect(runs).toEqual([1]);
    if (first.kind === 'embedding' && second.kind === 'embedding') expect([...second.embedding]).toEqual([...first.embedding]);

    const fresh = harness({ 'https://b.test/x.png': [1, 2, 250, 3], 'https://c.test/x.png': [1, 2, 250, 3] });
    const both = await Promise.all([fresh.pipeline.embed({ url: 'https://b.test/x.png' }), fresh.pipeline.embed({ url: 'https://c.test/x.png' })]);
    expect(both.map((r) => r.kind === 'embedding' && r.source).sort()).toEqual(['cache', 'model']);
    expect(fresh.runs).toEqual([1]);
  });

  it('runs images prepared together in one batch, and hands on the engine\'s unit vectors', async () => {
    const { pipeline, runs } = harness({ 'https://a.test/1.png': [1, 0, 0, 4], 'https://a.test/2.png': [0, 1, 0, 4], 'https://a.test/3.png': [0, 0, 1, 4] });
    const results = await Promise.all(['1', '2', '3'].map((n) => pipeline.embed({ url: `https://a.test/${n}.png` })));
    expect(runs).toEqual([3]);
    for (const r of results) if (r.kind === 'embedding') expect(Math.hypot(...r.embedding)).toBeCloseTo(1, 5);
  });

  it('overlaps: images prepared one at a time keep coming while a batch runs; the first run starts small, later ones are fuller', async () => {
    const { pipeline, runs, events } = slowDecodes(300);
    const urls = Array.from({ length: 12 }, (_, i) => `https://overlap.test/${i}.png`);
    await Promise.all(urls.map((url) => pipeline.embed({ url })));
    expect(runs.reduce((a, b) => a + b, 0)).toBe(12);
    expect(runs[0]).toBeLessThan(BATCH_SIZE);
    expect(Math.max(...runs.slice(1))).toBeGreaterThan(runs[0]);
    // Images were prepared while a run was under way.
    let running = false;
    let preparedDuringRun = 0;
    for (const e of events) {
      if (e === 'run-start') running = true;
      else if (e === 'run-end') running = false;
      else if (running) preparedDuringRun++;
    }
    expect(preparedDuringRun).toBeGreaterThan(0);
  });

  it('stops at a duplicate without embedding', async () => {
    const { pipeline, runs } = harness({ 'https://a.test/d.png': [9, 9, 9, 5] });
    expect(await pipeline.embed({ url: 'https://a.test/d.png', isDuplicate: () => true })).toMatchObject({ kind: 'duplicate' });
    expect(runs).toEqual([]);
  });

  it('fails with typed reasons', async () => {
    const reasonOf = (p: Promise<unknown>) => p.then(() => 'none', (e: unknown) => (e instanceof EmbedError ? e.failure.reason : `untyped: ${e}`));
    expect(await reasonOf(harness({}).pipeline.embed({ url: 'blob:https://a.test/1' }))).toBe('needs-visible-tab');
    expect(await reasonOf(harness({ 'https://a.test/bad.png': [0xff, 0xff, 0, 6] }).pipeline.embed({ url: 'https://a.test/bad.png' }))).toBe('decode');
    expect(await reasonOf(harness({ 'https://a.test/o.png': [3, 3, 3, 7] }, { failInference: true }).pipeline.embed({ url: 'https://a.test/o.png' }))).toBe('inference');
    expect(await reasonOf(harness({}, { failModel: true }).pipeline.embed({ url: 'https://a.test/o.png' }))).toBe('model');
  });

  it('an image that never answers fails with reason timeout within its deadline, and holds no batch', async () => {
    const { pipeline, runs } = harness({ 'https://slow.test/1.png': [41, 0, 0, 8], 'https://slow.test/2.png': [0, 41, 0, 8] }, { hang: ['https://slow.test/never.png'], deadlineMs: 300 });
    const started = Date.now();
    const settled = Promise.allSettled(['1', 'never', '2'].map((n) => pipeline.embed({ url: `https://slow.test/${n}.png` }).then((r) => ({ r, at: Date.now() - started }))));
    const [one, never, two] = await settled;
    expect(one).toMatchObject({ status: 'fulfilled', value: { r: { kind: 'embedding' } } });
    expect(two).toMatchObject({ status: 'fulfilled', value: { r: { kind: 'embedding' } } });
    // The others did not wait for the hanging one.
    if (one.status === 'fulfilled') expect(one.value.at).toBeLessThan(250);
    expect(runs).toEqual([2]);
    expect(never.status).toBe('rejected');
    const failure = never.status === 'rejected' && never.reason instanceof EmbedError ? never.reason.failure : null;
    expect(failure).toEqual({ reason: 'timeout', detail: 'loading the image: no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a decode that never ends fails with reason timeout too', async () => {
    const { pipeline, runs } = harness({ 'https://slow.test/3.png': [42, 0, 0, 9] }, { hangDecode: true, deadlineMs: 200 });
    const error = await pipeline.embed({ url: 'https://slow.test/3.png' }).catch((e: unknown) => e);
    expect(error instanceof EmbedError && error.failure).toEqual({ reason: 'timeout', detail: 'decoding the image: no answer within 200 ms' });
    expect(runs).toEqual([]);
  });
});

/**
 * A pipeline whose model loads only when `finish` is called (or fails then), for a model whose
 * files are on the device (`local`) or not; every decode is recorded with the model id it was for.
 */
function loading(options: { local: boolean; loads?: string; runMs?: number }) {
  const runs: number[] = [];
  const fetched: string[] = [];
  const decodedFor: string[] = [];
  const engine = {
    backend: 'wasm' as const,
    threads: 1,
    async embedImages(_pixels: Float32Array, count: number) {
      runs.push(count);
      if (options.runMs) await new Promise((resolve) => setTimeout(resolve, options.runMs));
      return Array.from({ length: count }, () => l2normalize(Float32Array.from({ length: spec.embedDim }, (_, d) => (d === 0 ? 1 : 0.1))));
    },
    async embedTexts() {
      return [];
    },
    async dispose() {},
  };
  const loaded = getModel(options.loads ?? spec.id)!;
  let finish!: (error?: Error) => void;
  const model = new Promise<LoadedModel>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve({ spec: loaded, engine } as unknown as LoadedModel));
  });
  const pipeline = new EmbeddingPipeline({
    model: () => model,
    upcoming: async () => ({ spec, local: options.local }),
    async loadBytes({ url }) {
      fetched.push(url);
      const bytes = new TextEncoder().encode(url);
      return { blob: new Blob([bytes]), bytes, etag: null, lastModified: null };
    },
    async prepare(_file, modelSpec) {
      decodedFor.push((modelSpec as typeof spec).id);
      return { pixels: new Float32Array(plane), preview: null };
    },
  });
  return { pipeline, runs, fetched, decodedFor, finish };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('embedding pipeline while the model loads', () => {
  it('fetches and decodes the images while a model on this device opens; only inference waits for it', async () => {
    const { pipeline, runs, fetched, decodedFor, finish } = loading({ local: true });
    const urls = Array.from({ length: 3 }, (_, i) => `https://early.test/${i}.png`);
    const results = Promise.all(urls.map((url) => pipeline.embed({ url })));
    // However long fetching, hashing and the cache lookups take on a loaded machine.
    await vi.waitFor(() => expect(decodedFor).toHaveLength(urls.length));
    expect({ fetched, decodedFor, runs }).toEqual({ fetched: urls, decodedFor: [spec.id, spec.id, spec.id], runs: [] });
    finish();
    expect((await results).map((r) => r.kind === 'embedding' && r.source)).toEqual(['model', 'model', 'model']);
    expect(runs).toEqual([3]);
  });

  it('decodes only the first run\'s images while the sessions open; the rest decode once it has opened', async () => {
    const { pipeline, runs, fetched, decodedFor, finish } = loading({ local: true });
    const urls = Array.from({ length: FIRST_BATCH + 3 }, (_, i) => `https://early.test/more-${i}.png`);
    const results = Promise.all(urls.map((url) => pipeline.embed({ url })));
    await vi.waitFor(() => expect(decodedFor).toHaveLength(FIRST_BATCH));
    await tick();
    expect(fetched).toEqual(urls);
    expect(decodedFor).toHaveLength(FIRST_BATCH);
    finish();
    expect((await results).every((r) => r.kind === 'embedding' && r.source === 'model')).toBe(true);
    expect(decodedFor).toHaveLength(urls.length);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(urls.length);
  });

  it('fetches nothing while a model that is not on this device is downloaded (or asked about)', async () => {
    const { pipeline, fetched, finish } = loading({ local: false });
    const result = pipeline.embed({ url: 'https://later.test/0.png' });
    await tick();
    expect(fetched).toEqual([]);
    finish();
    expect(await result).toMatchObject({ kind: 'embedding', source: 'model' });
    expect(fetched).toEqual(['https://later.test/0.png']);
  });

  it('a model that fails to load fails the images decoded meanwhile with reason model', async () => {
    const { pipeline, decodedFor, finish } = loading({ local: true });
    const results = Promise.allSettled(['a', 'b'].map((n) => pipeline.embed({ url: `https://fails.test/${n}.png` })));
    // Waited for, not timed: a loaded machine may take longer than a tick to hash and look them up.
    await vi.waitFor(() => expect(decodedFor).toHaveLength(2));
    finish(new Error('no memory for the session'));
    const reasons = (await results).map((r) => (r.status === 'rejected' && r.reason instanceof EmbedError ? r.reason.failure.reason : r.status));
    expect(reasons).toEqual(['model', 'model']);
  });

  it('an image decoded for one model and then loaded with another (a switch meanwhile) is decoded again for the one that runs it', async () => {
    const { pipeline, decodedFor, runs, finish } = loading({ local: true, loads: 'fixture-download' });
    const result = pipeline.embed({ url: 'https://switch.test/0.png' });
    await tick();
    finish();
    expect(await result).toMatchObject({ kind: 'embedding', modelId: 'fixture-download' });
    expect(decodedFor).toEqual([spec.id, 'fixture-download']);
    expect(runs).toEqual([1]);
  });

  it('an image whose embedding is stored answers before the model has loaded', async () => {
    const first = loading({ local: true });
    const url = 'https://stored.test/0.png';
    const embedded = first.pipeline.embed({ url });
    first.finish();
    await embedded;
    const later = loading({ local: true });
    expect(await later.pipeline.embed({ url })).toMatchObject({ kind: 'embedding', source: 'cache', modelId: spec.id });
    expect(later.runs).toEqual([]);
  });

  it('a run\'s images answer together, in the task the run ended in: storing their embeddings is not waited for', async () => {
    const urls = Array.from({ length: FIRST_BATCH }, (_, i) => `https://together.test/${i}.png`);
    const { pipeline, runs } = harness(Object.fromEntries(urls.map((url, i) => [url, [10 + i, 20, 30, 1]])));
    // Counts the macrotasks that pass while the images are embedded.
    let task = 0;
    let ticking = true;
    const next = () => {
      task++;
      if (ticking) setImmediate(next);
    };
    setImmediate(next);
    const answeredIn = await Promise.all(urls.map((url) => pipeline.embed({ url }).then(() => task)));
    ticking = false;
    expect(runs).toEqual([FIRST_BATCH]);
    expect(new Set(answeredIn).size).toBe(1);
    // Stored all the same: a pipeline started afresh (a restarted background) answers from the store, with no run.
    const again = harness({});
    const answers = await Promise.all(urls.map((url) => again.pipeline.embed({ url })));
    expect(answers.map((a) => a.kind)).toEqual(urls.map(() => 'embedding'));
    expect(again.runs).toEqual([]);
  });

  it('the first run is small, for the first results; the runs after it full', async () => {
    // Runs take as long as real ones roughly: the images after the first run's are prepared
    // while it runs, as they are in a browser, however slow this machine is at the moment.
    const { pipeline, runs, finish } = loading({ local: true, runMs: 300 });
    const results = Promise.all(Array.from({ length: FIRST_BATCH + 2 * BATCH_SIZE }, (_, i) => pipeline.embed({ url: `https://batches.test/${i}.png` })));
    await tick();
    finish();
    await results;
    expect(FIRST_BATCH).toBeLessThan(BATCH_SIZE);
    expect(runs).toEqual([FIRST_BATCH, BATCH_SIZE, BATCH_SIZE]);
  });

  it('a burst after the pipeline went idle (a new page) starts with a small run again, and waits for its images to be decoded', async () => {
    const { pipeline, runs } = slowDecodes();
    await Promise.all(Array.from({ length: FIRST_BATCH + BATCH_SIZE }, (_, i) => pipeline.embed({ url: `https://burst.test/a${i}.png` })));
    expect(runs[0]).toBe(FIRST_BATCH);
    // The pipeline is idle. Decoded one after another, 40 ms each: the next page's first run still waits for all of its images.
    const before = runs.length;
    await Promise.all(Array.from({ length: FIRST_BATCH + 1 }, (_, i) => pipeline.embed({ url: `https://burst.test/b${i}.png` })));
    expect(runs[before]).toBe(FIRST_BATCH);
  });

  it('a first run short of an image (its decode outlasts the wait) leaves it to the second run, so the two still hold FIRST_BATCH + BATCH', async () => {
    const urls = Array.from({ length: FIRST_BATCH + 2 * BATCH_SIZE }, (_, i) => `https://shortfall.test/${i}.png`);
    const late = urls[FIRST_BATCH - 1];
    // The late image takes longer than the first run's wait; the rest are decoded while the first run runs.
    const { pipeline, runs } = slowDecodes(600, (url) => (url === late ? 400 : 40));
    await Promise.all(urls.map((url) => pipeline.embed({ url })));
    // Short of the late image at least (of more when timers lag under load), the first run's shortfall goes to the second.
    expect(runs[0]).toBeLessThan(FIRST_BATCH);
    expect(runs[1]).toBe(BATCH_SIZE + FIRST_BATCH - runs[0]);
    // The debt is paid once: the third run is BATCH again.
    expect(runs.slice(2)).toEqual([BATCH_SIZE]);
  });

  it('a run takes the images asked for first, not those whose decode ended first', async () => {
    const urls = Array.from({ length: FIRST_BATCH + BATCH_SIZE + 4 }, (_, i) => `https://order.test/${i}.png`);
    // The second run's last image comes late (a slow server, say): the four asked for after it are decoded before it.
    const late = FIRST_BATCH + BATCH_SIZE - 1;
    const { pipeline, batches } = slowDecodes(600, () => 10, (url) => (url === urls[late] ? 150 : 0));
    await Promise.all(urls.map((url) => pipeline.embed({ url })));
    const asked = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
    expect(batches).toEqual([asked(0, FIRST_BATCH), asked(FIRST_BATCH, BATCH_SIZE), asked(FIRST_BATCH + BATCH_SIZE, 4)]);
  });

  it('images are decoded in the order they were asked for, not in the order their bytes arrived', async () => {
    const urls = Array.from({ length: 6 }, (_, i) => `https://decode-order.test/${i}.png`);
    // 0 and 1 go to the decoder one after the other, and 0 takes long. 2 and 3 come from a slower
    // server than 4 and 5: all four wait for their turn, 4 and 5 since before 2 and 3 came.
    // 1 comes a little after 0: two images whose bytes are here at once reach the decoder in the
    // order their hashes end, which is either.
    const fetchMs = [0, 30, 250, 250, 150, 150];
    const { pipeline, decoded } = slowDecodes(0, (url) => (url === urls[0] ? 600 : 20), (url) => fetchMs[urls.indexOf(url)]);
    await Promise.all(urls.map((url) => pipeline.embed({ url })));
    expect(decoded).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('an urgent image (a right-click while the page is indexed) is decoded before the pages\' images waiting for their turn', async () => {
    const page = Array.from({ length: 6 }, (_, i) => `https://urgent.test/${i}.png`);
    const clicked = 'https://urgent.test/9.png';
    // 0 and 1 are with the decoder when the click comes, and 0 takes long; 2 to 5 wait for their turn.
    // 1 comes a little after 0, so that the two reach the decoder in that order (see above).
    const fetchMs = (url: string) => (url === clicked ? 250 : page.indexOf(url) >= 2 ? 100 : url === page[1] ? 30 : 0);
    const { pipeline, decoded, batches } = slowDecodes(0, (url) => (url === page[0] ? 600 : 20), fetchMs);
    const indexing = Promise.all(page.map((url) => pipeline.embed({ url })));
    const right = pipeline.embed({ url: clicked, urgent: true });
    await Promise.all([indexing, right]);
    expect(decoded).toEqual([0, 1, 9, 2, 3, 4, 5]);
    // And it runs in the first run its decode reaches.
    expect(batches.flat().indexOf(9)).toBeLessThan(batches.flat().indexOf(2));
  });

  it('the second run of a burst waits for an image being decoded, so the first FIRST_BATCH + BATCH share two runs', async () => {
    const urls = Array.from({ length: FIRST_BATCH + 2 * BATCH_SIZE }, (_, i) => `https://second.test/${i}.png`);
    const last = urls[FIRST_BATCH + BATCH_SIZE - 1];
    // The first run ends while the second run's last image is still in the decoder, for longer than a later run would wait.
    const { pipeline, runs } = slowDecodes(100, (url) => (url === last ? 150 : 20));
    await Promise.all(urls.map((url) => pipeline.embed({ url })));
    expect(runs.slice(0, 2)).toEqual([FIRST_BATCH, BATCH_SIZE]);
  });
});

/**
 * A pipeline with a ready model and one decoder, as the decode worker is: `decodeMs` an image (40
 * unless told), one after another; each run takes `runMs`; an image's bytes come after
 * `fetchMs` (at once unless told). `events` records runs starting and ending and images prepared,
 * in order; `batches` the images of each run and `decoded` the order of decodes, by the number
 * that ends their address.
 */
function slowDecodes(runMs = 0, decodeMs: (url: string) => number = () => 40, fetchMs: (url: string) => number = () => 0) {
  const runs: number[] = [];
  const batches: number[][] = [];
  const decoded: number[] = [];
  const events: string[] = [];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const engine = {
    backend: 'wasm' as const,
    threads: 1,
    async embedImages(pixels: Float32Array, count: number) {
      runs.push(count);
      batches.push(Array.from({ length: count }, (_, i) => pixels[i * plane]));
      events.push('run-start');
      if (runMs > 0) await sleep(runMs);
      events.push('run-end');
      return Array.from({ length: count }, () => l2normalize(Float32Array.from({ length: spec.embedDim }, (_, d) => (d === 0 ? 1 : 0.1))));
    },
    async embedTexts() {
      return [];
    },
    async dispose() {},
  };
  const model = { spec, engine } as unknown as LoadedModel;
  let decoder = Promise.resolve();
  const pipeline = new EmbeddingPipeline({
    model: async () => model,
    loadBytes: async ({ url }) => {
      if (fetchMs(url) > 0) await sleep(fetchMs(url));
      const bytes = new TextEncoder().encode(url);
      return { blob: new Blob([bytes]), bytes, etag: null, lastModified: null };
    },
    prepare: ({ bytes }) => {
      const url = new TextDecoder().decode(bytes);
      const done = decoder.then(() => sleep(decodeMs(url))).then(() => {
        events.push('prepared');
        const pixels = new Float32Array(plane);
        pixels[0] = Number(/(\d+)\.png$/.exec(url)?.[1] ?? NaN);
        decoded.push(pixels[0]);
        return { pixels, preview: null };
      });
      decoder = done.then(() => undefined);
      return done;
    },
  });
  return { pipeline, runs, batches, decoded, events };
}
