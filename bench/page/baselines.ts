// Baselines measured in the same run as the extension, on the same pictures and model bytes:
//   bare onnxruntime-web, N threads   the ceiling of our hosting (cross-origin-isolated page)
//   bare onnxruntime-web, 1 thread    what a host without WASM threads gets
//   onnxruntime-node, N threads       the native ceiling for the same graph
//   transformers.js                   the same job as a user of @huggingface/transformers writes it
//   mci0 vs vitb16 (bare, N threads)  the seed's speed claim, in our runtime
//   bare session creation             the cold start's ceiling: the engine's sessions, created alone
//                                     (and at a later start, the browser's caches kept)
// Bare and node runs time inference only (pixels arrive preprocessed); transformers.js is timed
// from the image URLs, as the extension is.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../../e2e/browsers.ts';
import { imagePath, pixelValues, type TestPage } from './images.ts';
import type { PreparedModel } from './model.ts';
import { packageDist } from './server.ts';
import { filesForBackend } from '../../src/engine/registry.ts';

export interface BaselineJob {
  /** A tab of a plain Chromium (no extension) at a path of the bench server. */
  openPage(path: string): Promise<Page>;
  origin: string;
  model: PreparedModel;
  cache: string;
  page: TestPage;
  threads: number;
  batch: number;
}

/** ms for the page's images, or why the baseline did not run. */
export type Outcome = { ms: number; openMs?: number; coldMs?: number } | { skipped: string };

interface BareModule {
  open(a: { model: string; externalData?: { path: string; url: string }[]; threads: number }): Promise<{ openMs: number; crossOriginIsolated: boolean; threads: number }>;
  load(a: { url: string; size: number; count: number }): Promise<void>;
  run(a: { size: number; count: number; batch: number }): Promise<number>;
}

/**
 * A fresh isolated page per configuration: onnxruntime-web fixes its thread count when its
 * WASM module starts. The first run is a warm-up (WASM tier-up, thread pool, arena) and is not
 * counted, as the extension's engine warms up before it reports ready.
 */
async function bareOrt(job: BaselineJob, o: { model: string; externalData?: { path: string; url: string }[]; size: number; count: number; threads: number }): Promise<Outcome & { ms: number }> {
  const tab = await job.openPage('/bare.html');
  try {
    const opened = await tab.evaluate(async (a) => ((await import('/bare.js' as string)) as BareModule).open(a), { model: o.model, externalData: o.externalData, threads: o.threads });
    if (o.threads > 1 && !opened.crossOriginIsolated) throw new Error('the bare-ORT page is not cross-origin isolated: no WASM threads');
    const url = `${job.origin}${imagePath(job.page.index, `pre-${o.size}.rgb`)}`;
    await tab.evaluate(async (a) => ((await import('/bare.js' as string)) as BareModule).load(a), { url, size: o.size, count: o.count });
    const run = { size: o.size, count: Math.min(job.batch, o.count), batch: job.batch };
    await tab.evaluate(async (a) => ((await import('/bare.js' as string)) as BareModule).run(a), run);
    const ms = await tab.evaluate(async (a) => ((await import('/bare.js' as string)) as BareModule).run(a), { ...run, count: o.count });
    return { ms, openMs: opened.openMs };
  } finally {
    await tab.close();
  }
}

/** A file of the model's Hugging Face layout on the bench server; `path` as the registry names it. */
const repoUrl = (job: BaselineJob, path: string) => `${job.origin}/${job.model.spec.repo}/resolve/main/${path}`;
/** The graphs the extension's WASM engine loads (the registry's 'wasm' files: the int8 text graph). */
const wasmFiles = (job: BaselineJob) => filesForBackend(job.model.spec, 'wasm');
const visionUrl = (job: BaselineJob) => repoUrl(job, wasmFiles(job).vision);

/** ms from before onnxruntime-web's import until the text session, then also the vision session, is created. */
export interface CreationTimes {
  textMs: number;
  bothMs: number;
}

/**
 * The engine's two sessions created by onnxruntime-web alone, from the files the extension's WASM
 * engine loads, with its thread count, in a fresh isolated tab: the import and the WASM compile
 * count, as they do in the extension's cold start.
 */
export async function bareCreationBaseline(job: BaselineJob): Promise<CreationTimes> {
  const files = wasmFiles(job);
  const tab = await job.openPage('/bare.html');
  try {
    const created = await tab.evaluate(
      async (a) =>
        ((await import('/creation.js' as string)) as { create(x: typeof a): Promise<CreationTimes & { crossOriginIsolated: boolean; threads: number }> }).create(a),
      { text: repoUrl(job, files.text), vision: repoUrl(job, files.vision), threads: job.threads },
    );
    if (job.threads > 1 && !created.crossOriginIsolated) throw new Error('the session-creation page is not cross-origin isolated: no WASM threads');
    return { textMs: created.textMs, bothMs: created.bothMs };
  } finally {
    await tab.close();
  }
}

/**
 * The same creation at a later start: a persistent profile's first browser creates and runs both
 * sessions (untimed), the browser is restarted on that profile, and the creation is timed in a
 * fresh tab. What the browser keeps between the two (onnxruntime-web's files in its HTTP cache,
 * V8's compiled code of its WASM module) is what the extension's later starts have too.
 */
export async function bareCreationLaterBaseline(job: BaselineJob): Promise<CreationTimes> {
  const files = wasmFiles(job);
  const urls = { text: repoUrl(job, files.text), vision: repoUrl(job, files.vision), threads: job.threads };
  const profile = await mkdtemp(join(tmpdir(), 'bench-page-bare-'));
  const inBrowser = async <T>(fn: (page: Page) => Promise<T>): Promise<T> => {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await context.newPage();
      await page.goto(`${job.origin}/bare.html`);
      return await fn(page);
    } finally {
      await context.close();
    }
  };
  try {
    const size = job.model.spec.imageSize;
    await inBrowser((page) =>
      page.evaluate(async (a) => ((await import('/creation.js' as string)) as { warmUp(x: typeof a): Promise<void> }).warmUp(a), { ...urls, size, batch: job.batch, runs: 3 }),
    );
    const created = await inBrowser((page) =>
      page.evaluate(async (a) => ((await import('/creation.js' as string)) as { create(x: typeof a): Promise<CreationTimes> }).create(a), urls),
    );
    return { textMs: created.textMs, bothMs: created.bothMs };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

export function bareOrtBaseline(job: BaselineJob, threads: number): Promise<Outcome> {
  const size = job.model.spec.imageSize;
  return bareOrt(job, { model: visionUrl(job), size, count: job.page.images.length, threads });
}

/** The seed's claim: the S0 image tower against a ViT-B/16 one, same batch and threads, `count` images each. */
export async function speedClaim(job: BaselineJob, count: number): Promise<{ mci0: number; vitb16: number }> {
  const tower = (name: string, size: number) =>
    bareOrt(job, { model: `${job.origin}/arch/${name}.onnx`, externalData: [{ path: `${name}.bin`, url: `${job.origin}/arch/${name}.bin` }], size, count, threads: job.threads });
  return { mci0: (await tower('mci0', 256)).ms, vitb16: (await tower('vitb16', 224)).ms };
}

/** onnxruntime-node on the same bytes the extension loads (weights inline), same threads and batch. */
export async function nodeBaseline(job: BaselineJob): Promise<Outcome> {
  const size = job.model.spec.imageSize;
  const count = job.page.images.length;
  const pixels = pixelValues(job.cache, job.page.index, size, count);
  const started = performance.now();
  const session = await ortNode.InferenceSession.create(join(job.model.hfDir, 'onnx/vision_model.onnx'), {
    executionProviders: ['cpu'],
    intraOpNumThreads: job.threads,
    interOpNumThreads: 1,
  });
  const openMs = performance.now() - started;
  const plane = 3 * size * size;
  const runBatch = async (start: number) => {
    const n = Math.min(job.batch, count - start);
    const input = new ortNode.Tensor('float32', pixels.subarray(start * plane, (start + n) * plane), [n, 3, size, size]);
    await session.run({ [session.inputNames[0]]: input });
  };
  try {
    await runBatch(0); // warm-up, as in the browser baselines
    const t0 = performance.now();
    for (let start = 0; start < count; start += job.batch) await runBatch(start);
    return { ms: performance.now() - t0, openMs };
  } finally {
    await session.release();
  }
}

interface TransformersModule {
  open(a: { repo: string; threads: number }): Promise<{ openMs: number; crossOriginIsolated: boolean; threads: number }>;
  run(a: { urls: string[]; batch: number }): Promise<number>;
}

/** Needs `@huggingface/transformers` as a devDependency; skipped with the reason otherwise. */
export async function transformersBaseline(job: BaselineJob): Promise<Outcome> {
  if (!packageDist('@huggingface/transformers')) return { skipped: '@huggingface/transformers is not installed (see bench/README.md)' };
  const tab = await job.openPage('/bare.html');
  try {
    const opened = await tab.evaluate(async (a) => ((await import('/transformers.js' as string)) as TransformersModule).open(a), { repo: job.model.spec.repo, threads: job.threads });
    const urls = job.page.images.map((img) => `${job.origin}${imagePath(job.page.index, img.file)}`);
    const run = () => tab.evaluate(async (a) => ((await import('/transformers.js' as string)) as TransformersModule).run(a), { urls, batch: job.batch });
    // Cold: the first pass over the page right after loading, as a fresh page of this job runs.
    // Warm: a second pass, the steady state (the session warmed up, the images in the HTTP cache
    // would be an advantage, so the server sends them uncacheable; see server.ts).
    const coldRunMs = await run();
    const ms = await run();
    return { ms, openMs: opened.openMs, coldMs: opened.openMs + coldRunMs };
  } finally {
    await tab.close();
  }
}
