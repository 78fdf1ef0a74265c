// Revisit of a 100-image page whose images are all known: the background's part of "popup open →
// all ranked", through the real EmbeddingPipeline and LensStore (fake-indexeddb in Node, so the
// store figures are an indication of the round trips, not of a browser's IndexedDB speed), and
// the storage one image costs. The full-browser row ("revisit, all cached → all ranked") is in
// `npm run bench:page`.
//
// Cases, each 100 pipeline.embed() calls at once, then rank against a query (top 50):
//   warm   the background's memory still holds the embeddings (the popup reopened); URL records are read
//   cold   a new pipeline, nothing in memory: URL records and embeddings read from the store
//          (the background was restarted)
//   304    cold, and the URL records are past their freshness window: each image is asked
//          conditionally and the (fake, instant) server answers 304; the network is not timed
// The model's engine throws if called: a revisit that embeds anything fails the benchmark.
//
// Run: npx tsx bench/revisit.bench.ts [runs]

import 'fake-indexeddb/auto';
// webextension-polyfill refuses to load outside an extension; with `browser` there it hands that out.
const extension = { runtime: { id: 'bench' }, storage: { local: { get: async () => ({}) } } };
Object.assign(globalThis, { chrome: extension, browser: extension });

const { EmbeddingPipeline } = await import('../src/background/embedding-pipeline.ts');
const { persistentStore } = await import('../src/store/stores.ts');
const { requireModel, DEFAULT_MODEL_ID } = await import('../src/engine/registry.ts');
const { l2normalize, rankBySimilarity } = await import('../src/engine/similarity.ts');
const { seededRandom } = await import('../src/engine/seeded-random.ts');
const { THUMBNAIL_MAX_BYTES } = await import('../src/store/pages.ts');
const { URL_FRESH_MS } = await import('../src/store/db.ts');
import type { LoadedModel } from '../src/background/engine-host.ts';

const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 15);
const IMAGES = 100;
const K = 50;
/** A typical stored preview (the cap is THUMBNAIL_MAX_BYTES); WebP cannot be encoded in Node, so its size stands in. */
const THUMBNAIL_BYTES = 5 * 1024;

const spec = requireModel(DEFAULT_MODEL_ID);
const next = seededRandom(9);
const unit = () => l2normalize(Float32Array.from({ length: spec.embedDim }, () => next() - 0.5));
const hex = (n: number) => n.toString(16).padStart(64, '0');
const images = Array.from({ length: IMAGES }, (_, i) => ({ url: `https://cdn.test/photo-${i}.jpg`, sha256: hex(i + 1), embedding: unit() }));
const query = unit();

let inferences = 0;
const model = {
  spec,
  engine: {
    async embedImages(): Promise<Float32Array[]> {
      inferences++;
      throw new Error('a revisit must not run the image model');
    },
  },
} as unknown as LoadedModel;
const pipeline = () =>
  new EmbeddingPipeline({
    model: async () => model,
    loadBytes: async ({ url }) => {
      throw new Error(`a revisit must not download ${url}`);
    },
    prepare: async () => {
      throw new Error('a revisit must not decode');
    },
    revalidate: async () => ({ kind: 'unchanged' }),
  });

const store = persistentStore();
async function remember(fetchedAt: number): Promise<void> {
  for (const image of images) {
    await store.putUrl({ url: image.url, sha256: image.sha256, etag: '"v1"', lastModified: null, size: 120_000, fetchedAt });
    await store.putEmbedding(spec.id, image.sha256, image.embedding);
  }
}

async function revisit(p: InstanceType<typeof EmbeddingPipeline>): Promise<void> {
  const answers = await Promise.all(images.map((image) => p.embed({ url: image.url })));
  const ranked = rankBySimilarity(
    query,
    answers.map((a, i) => {
      if (a.kind !== 'embedding' || a.source !== 'cache') throw new Error(`image ${i} was not answered from the cache`);
      return { embedding: a.embedding, url: images[i].url };
    }),
  ).slice(0, K);
  if (ranked.length !== K) throw new Error('not all ranked');
}

async function timed(prepare: () => Promise<InstanceType<typeof EmbeddingPipeline>>): Promise<number[]> {
  await revisit(await prepare()); // warm-up
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const p = await prepare();
    const t = performance.now();
    await revisit(p);
    out.push(performance.now() - t);
  }
  return out;
}

function fmt(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)].toFixed(1)} (${s[0].toFixed(1)}-${s[s.length - 1].toFixed(1)})`;
}

await remember(Date.now());
const shared = pipeline();
const warm = await timed(async () => shared);
const cold = await timed(async () => pipeline());
await remember(Date.now() - 2 * URL_FRESH_MS);
// Each run refreshes the records (a 304 renews fetchedAt): age them again before every run.
const notModified = await timed(async () => {
  await remember(Date.now() - 2 * URL_FRESH_MS);
  return pipeline();
});
if (inferences > 0) throw new Error(`${inferences} inference calls during revisits`);

console.log(`Revisit of ${IMAGES} known images (${spec.id}, ${spec.embedDim}-d), embed all + rank top ${K}, median (min-max) ms over ${runs} runs; fake-indexeddb`);
console.log(`  warm (URL records from the store, embeddings in memory) ${fmt(warm)}`);
console.log(`  cold (URL records and embeddings from the store)     ${fmt(cold)}`);
console.log(`  304  (stale records revalidated, network excluded)   ${fmt(notModified)}`);

// Storage: one page with the 100 images and their previews, on top of the records above.
await store.putPage({
  url: 'https://pics.test/gallery',
  title: 'A gallery of one hundred pictures',
  favicon: 'https://pics.test/favicon.ico',
  visitedAt: Date.now(),
  modelId: spec.id,
  images: images.map((image, i) => ({
    sha256: image.sha256,
    src: image.url,
    alt: `picture number ${i}`,
    width: 400,
    height: 300,
    thumbnail: new Blob([new Uint8Array(THUMBNAIL_BYTES)], { type: 'image/webp' }),
  })),
});
const { stores, totalBytes } = await store.usage();
console.log(`\nStorage per image (budget estimates, budget.ts; preview taken as ${THUMBNAIL_BYTES} B, cap ${THUMBNAIL_MAX_BYTES} B)`);
for (const name of ['embeddings', 'urls', 'pages', 'thumbnails'] as const) console.log(`  ${name.padEnd(11)} ${(stores[name].bytes / IMAGES).toFixed(0).padStart(6)} B`);
console.log(`  ${'total'.padEnd(11)} ${(totalBytes / IMAGES).toFixed(0).padStart(6)} B  (${((500 * 1024 * 1024) / (totalBytes / IMAGES)).toFixed(0)} images in the default 500 MB budget)`);
store.close();
