// The transformers.js baseline (bench/page/baselines.ts): the same indexing job written as a user
// of @huggingface/transformers would write it, against the local Hugging Face layout server.
// Timed from the image URLs to the embeddings (fetch, decode, preprocess, inference); `open`
// times loading the processor and the model (fetching its files from the local server and
// creating the session), which a cold start of the same job also pays.
import { env, AutoProcessor, CLIPVisionModelWithProjection, RawImage } from '/tf/transformers.min.js';

let processor;
let model;

export async function open({ repo, threads }) {
  env.allowLocalModels = false;
  env.remoteHost = location.origin;
  env.useBrowserCache = false;
  env.backends.onnx.wasm.numThreads = threads;
  // The library defaults to a CDN for ORT's WASM files; this machine is offline, so they come
  // from the onnxruntime-web build the package pins (served at /tf-ort/), as a self-hosting user would set it up.
  env.backends.onnx.wasm.wasmPaths = '/tf-ort/';
  const started = performance.now();
  processor = await AutoProcessor.from_pretrained(repo);
  model = await CLIPVisionModelWithProjection.from_pretrained(repo, { device: 'wasm', dtype: 'fp32' });
  return { openMs: performance.now() - started, crossOriginIsolated, threads: env.backends.onnx.wasm.numThreads };
}

export async function run({ urls, batch }) {
  const started = performance.now();
  for (let start = 0; start < urls.length; start += batch) {
    const images = await Promise.all(urls.slice(start, start + batch).map((u) => RawImage.fromURL(u)));
    const inputs = await processor(images);
    const { image_embeds } = await model(inputs);
    image_embeds.dispose?.();
  }
  return performance.now() - started;
}
