// Types shared across the engine. Plain TypeScript: no browser-extension APIs here,
// so everything in src/engine runs in Node tests and the CLI as well.

import type { ModelRelevance } from './relevance';

export type Backend = 'webgpu' | 'wasm';

/** One MobileCLIP variant (or the test fixture) as the registry describes it. */
export interface ModelSpec {
  /** Stable id used as cache key and in settings, e.g. 'mobileclip-s0'. */
  id: string;
  /** Name shown to people, e.g. 'MobileCLIP-S0'. */
  label: string;
  /** Hugging Face repo holding the ONNX export, e.g. 'Xenova/mobileclip_s0'. */
  repo: string;
  /** Square input size of the image tower (256 for S0/S1/S2, 224 for B/B-LT). */
  imageSize: number;
  /** Per-channel normalisation applied after scaling to [0,1]; absent means none (MobileCLIP v1). */
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
  /** Length of image_embeds / text_embeds. */
  embedDim: number;
  /** Multiplier on cosine similarity before softmax in zero-shot classification. */
  logitScale: number;
  /** Token context length of the text tower. */
  contextLength: number;
  /** Repo-relative file paths. Vision/text choose a file per backend. */
  files: {
    vision: Record<Backend, string>;
    text: Record<Backend, string>;
    /** tokenizer.json (Hugging Face) or bpe_simple_vocab_16e6.txt.gz (OpenAI merges). */
    tokenizer: string;
  };
  /**
   * Cosines that make a match and a readable relevance, per kind of comparison (see relevance.ts).
   * Every registry entry has them; specs built elsewhere (benchmarks, test hubs) may leave them out
   * and get the MobileCLIP estimate through relevanceOf() in registry.ts.
   */
  relevance?: ModelRelevance;
  /** Only test builds and the offline demo know about test-only entries. */
  testOnly?: boolean;
  /**
   * About how many bytes a first download fetches (the WASM files and the tokenizer): shown before
   * anything is fetched, when no listing has been asked for yet. The exact size comes with the download.
   */
  downloadBytes?: number;
  /** Milliseconds per image on one WASM thread of a 2-core machine (bench/model-speed.bench.ts): a speed hint. */
  speedMs?: number;
}

/** ONNX model bytes plus any external-data files the graph refers to by name. */
export interface ModelBytes {
  model: Uint8Array;
  externalData?: { path: string; data: Uint8Array }[];
}
