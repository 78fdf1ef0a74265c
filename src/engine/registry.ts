// The model registry: one ModelSpec per variant. Adding a variant means adding one entry here;
// download, engine and UI code read everything they need from the spec.
//
// Sources for the numbers below (checked while writing this file):
// - MobileCLIP v1 (Apple ml-mobileclip; ONNX exports Xenova/mobileclip_*): S0/S1/S2 take 256x256,
//   B and B-LT take 224x224, pixels are RGB scaled to [0,1] with no mean/std, embeddings are 512-d.
// - MobileCLIP2 (open_clip configs MobileCLIP2-S0.json etc. and Apple's README): S0/S2 use the
//   FastViT MCi towers at 256x256, B is the ViT-B/16 tower at 224x224, all 512-d. Apple's usage code
//   passes image_mean=(0,0,0), image_std=(1,1,1) for every MobileCLIP2 variant except S3, S4 and L-14
//   (those use the OpenAI CLIP mean/std), so S0/S2/B need no normalisation either.
// - MobileCLIP2 ONNX: `plhery/mobileclip2-onnx` holds one directory per size (`onnx/s0`, `onnx/s2`,
//   `onnx/b`, `onnx/l14`) with `vision_model.onnx` + `text_model.onnx` (fp32 only, as far as the
//   published file lists show) and one shared CLIP `tokenizer.json` at the repo root; its
//   preprocessor_config.json for s0/s2 says 256 px, mean 0, std 1. This is a community export (not
//   Apple's own); no fp16 or int8 files were found there, so both backends load fp32.
// - Logit scale: CLIP training clamps the learned temperature at 100 and the released MobileCLIP
//   checkpoints sit at that cap; Apple's examples multiply cosine similarity by 100.

import type { ModelRelevance } from './relevance.ts';
import type { Backend, ModelSpec, PinnedSource } from './types.ts';

const CLIP_CONTEXT = 77;
const LOGIT_SCALE = 100;

/**
 * Relevance scales of the MobileCLIP variants (see relevance.ts). NOT measured on MobileCLIP:
 * real weights cannot run in this project's tests, so these are conservative estimates to revisit
 * with measured cosines. Where they come from:
 * - text → image: CLIP-family image/caption cosines sit in a narrow band; LAION filtered its
 *   datasets at a cosine of 0.28 with OpenAI CLIP ViT-B/32 (LAION-400M / LAION-5B papers) to keep
 *   only pairs that match, and short search phrases score below full captions. So 0.30 reads as a
 *   clear match, and the floor is set low (0.18) so that real matches are not hidden; unrelated
 *   pairs land around 0.10.
 * - image → image: unrelated photos already score around 0.4-0.5 with CLIP image towers and near
 *   copies above 0.9; the floor (0.65) asks for clearly shared content.
 */
const MOBILECLIP_RELEVANCE: ModelRelevance = {
  text: { unrelated: 0.1, floor: 0.18, clear: 0.3 },
  image: { unrelated: 0.45, floor: 0.65, clear: 0.9 },
};

/**
 * The fixture's scales follow from how scripts/make-fixture-model.ts builds it (measured with the
 * CLI on its outputs): a colour word and its solid colour image score 1 / (1 + 1.5²) ≈ 0.31,
 * unrelated colours and non-colour words (e.g. "xyzzy") within about ±0.06 of 0; two different
 * colour images score 0.69 (their shared modality offset), the same colour 1.
 */
const FIXTURE_RELEVANCE: ModelRelevance = {
  text: { unrelated: 0, floor: 0.15, clear: 0.3 },
  image: { unrelated: 0.69, floor: 0.85, clear: 1 },
};

/**
 * File choice for the Xenova MobileCLIP v1 exports.
 * - Vision: fp32 on WASM and fp16 on WebGPU. The int8 vision file exists but the image tower loses
 *   noticeable accuracy when quantized, so it is never used.
 * - Text: the int8 file on WASM (about 4x smaller download; the project accepts int8 for the text
 *   tower); fp32 on WebGPU, where int8 (MatMulInteger) kernels would fall back to the CPU.
 */
function xenovaFiles(): ModelSpec['files'] {
  return {
    vision: { wasm: 'onnx/vision_model.onnx', webgpu: 'onnx/vision_model_fp16.onnx' },
    text: { wasm: 'onnx/text_model_quantized.onnx', webgpu: 'onnx/text_model.onnx' },
    tokenizer: 'tokenizer.json',
  };
}

/** File choice for `plhery/mobileclip2-onnx`: only fp32 graphs are published, per size directory. */
function mobileclip2Files(sizeDir: string): ModelSpec['files'] {
  const vision = `onnx/${sizeDir}/vision_model.onnx`;
  const text = `onnx/${sizeDir}/text_model.onnx`;
  return {
    vision: { wasm: vision, webgpu: vision },
    text: { wasm: text, webgpu: text },
    tokenizer: 'tokenizer.json',
  };
}

/**
 * What the options page and the download confirmation say about a variant before any request:
 * - bytes: the files a WASM download fetches, from the weights of the architecture replicas in
 *   ../shared/archmodels (same parameter counts as the published towers): fp32 image tower, int8
 *   (v1) or fp32 (MobileCLIP2) text tower, and the CLIP tokenizer.json (about 2.2 MB).
 * - speedMs: image-tower milliseconds per image on one WASM thread of a 2-core machine, measured
 *   on those replicas with bench/model-speed.bench.ts, fastest of 9 runs (the machine is shared;
 *   MobileCLIP2 towers share v1's sizes).
 */
const MB = 1e6;
const TOKENIZER_MB = 2.2;
const VISION = {
  s0: { mb: 45.3, ms: 260 },
  s1: { mb: 85.5, ms: 520 },
  s2: { mb: 142.4, ms: 770 },
  b: { mb: 344.9, ms: 1310 },
} as const;
const TEXT_MB = { mctInt8: 42.6, baseInt8: 63.7, mct: 169.7, base: 253.6 } as const;

function hints(vision: keyof typeof VISION, textMb: number): Pick<ModelSpec, 'downloadBytes' | 'speedMs'> {
  return { downloadBytes: Math.round((VISION[vision].mb + textMb + TOKENIZER_MB) * MB), speedMs: VISION[vision].ms };
}

/**
 * Upstream versions checked against published records (no network here to list them ourselves):
 * the commit and SHA-256 of Xenova/mobileclip_s0's files as other projects pin them (leanlet's
 * asset manager, schist's model catalogue, and the fp16 file's size from a transfer log of the
 * same files), and plhery/mobileclip2-onnx's s2 graphs at the commit alcedo-mind pins. Entries
 * without a pin for every file they load are unverified sources, trusted on first use
 * (hub/trust.ts); isPinned() tells them apart.
 */
const PINS: Record<string, PinnedSource> = {
  'Xenova/mobileclip_s0': {
    revision: '757d59c9c6870a76a4b0306f05f5061bca15c39f',
    files: {
      'onnx/vision_model.onnx': { size: 45_543_630, sha256: '17d3c037b1d488c10c50e09f6009ea5a198caef4e0e8f4ea5617b7cb2d067ac0' },
      'onnx/vision_model_fp16.onnx': { size: 22_876_479, sha256: '22b1d36ecc6837e8205aee05003440a25e1c1ee0c7e2945dbb9dd597211c59dc' },
      'onnx/text_model_quantized.onnx': { size: 42_799_238, sha256: 'b8557b10e5c23a0126c6d2e6eba48d240484979007917d128953b31618a04211' },
      'onnx/text_model.onnx': { size: 169_807_789, sha256: 'f6e9bd5742bfc515889e901634d8a2ff2a57fab8564e4ad3760e800b1a51b77c' },
      'tokenizer.json': { size: 2_224_081, sha256: '72ed5c96db5729294468543e4bc75fce14ca63f58e37300290189ba1c1e52b85' },
    },
  },
  'plhery/mobileclip2-onnx': {
    revision: 'ba95759a5bdbaca53e9111e2550a76ec09c8fd9e',
    files: {
      'onnx/s2/vision_model.onnx': { size: 143_044_797, sha256: 'a841f72c5a5085748bbe271a1d5718aba877822a15cba865bdbd0d37036b849e' },
      'onnx/s2/text_model.onnx': { size: 254_053_669, sha256: '622f10372bca71b5017f2efc5f8c2886610a2592b636de8984d717f03213f031' },
    },
  },
  // Generated by scripts/make-fixture-model.ts (deterministic; its test checks these
  // against a freshly generated copy). The local test hubs serve it under this commit id.
  'local/fixture': {
    revision: 'f1c7e5f1c7e5f1c7e5f1c7e5f1c7e5f1c7e5f1c7',
    files: {
      'onnx/vision_model.onnx': { size: 4_682, sha256: '032bb85957650b0cda88cad6d1d21a0d9d1f8084b7ef0383a7e3486ae56141d5' },
      'onnx/text_model.onnx': { size: 6_324_681, sha256: '1626bdb18d225d244e4288249c30faa5f122c11460fed6f9cbe52191b288a0dc' },
      'bpe_simple_vocab_16e6.txt.gz': { size: 1_356_917, sha256: '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a' },
    },
  },
};

/** The pins published for a repo's files, when we have any (only the files of one size directory for mobileclip2). */
function pinsFor(repo: string, files: ModelSpec['files']): PinnedSource | undefined {
  const known = PINS[repo];
  if (!known) return undefined;
  const paths = [files.vision.wasm, files.vision.webgpu, files.text.wasm, files.text.webgpu, files.tokenizer];
  const pinned = Object.fromEntries(paths.flatMap((p) => (known.files[p] ? [[p, known.files[p]]] : [])));
  return { revision: known.revision, files: pinned };
}

function mobileclipV1(id: string, label: string, repo: string, imageSize: number, hint: Pick<ModelSpec, 'downloadBytes' | 'speedMs'>): ModelSpec {
  const files = xenovaFiles();
  return {
    ...hint,
    id,
    label,
    repo,
    imageSize,
    embedDim: 512,
    logitScale: LOGIT_SCALE,
    contextLength: CLIP_CONTEXT,
    files,
    relevance: MOBILECLIP_RELEVANCE,
    source: pinsFor(repo, files),
  };
}

function mobileclip2(id: string, label: string, sizeDir: string, imageSize: number, hint: Pick<ModelSpec, 'downloadBytes' | 'speedMs'>): ModelSpec {
  const repo = 'plhery/mobileclip2-onnx';
  const files = mobileclip2Files(sizeDir);
  return {
    ...hint,
    id,
    label,
    repo,
    imageSize,
    embedDim: 512,
    logitScale: LOGIT_SCALE,
    contextLength: CLIP_CONTEXT,
    files,
    relevance: MOBILECLIP_RELEVANCE,
    source: pinsFor(repo, files),
  };
}

export const DEFAULT_MODEL_ID = 'mobileclip-s0';

export const MODELS: readonly ModelSpec[] = Object.freeze([
  mobileclipV1('mobileclip-s0', 'MobileCLIP-S0', 'Xenova/mobileclip_s0', 256, hints('s0', TEXT_MB.mctInt8)),
  mobileclipV1('mobileclip-s1', 'MobileCLIP-S1', 'Xenova/mobileclip_s1', 256, hints('s1', TEXT_MB.baseInt8)),
  mobileclipV1('mobileclip-s2', 'MobileCLIP-S2', 'Xenova/mobileclip_s2', 256, hints('s2', TEXT_MB.baseInt8)),
  mobileclipV1('mobileclip-b', 'MobileCLIP-B', 'Xenova/mobileclip_b', 224, hints('b', TEXT_MB.baseInt8)),
  mobileclipV1('mobileclip-blt', 'MobileCLIP-B (LT)', 'Xenova/mobileclip_blt', 224, hints('b', TEXT_MB.baseInt8)),
  mobileclip2('mobileclip2-s0', 'MobileCLIP2-S0', 's0', 256, hints('s0', TEXT_MB.mct)),
  mobileclip2('mobileclip2-s2', 'MobileCLIP2-S2', 's2', 256, hints('s2', TEXT_MB.base)),
  mobileclip2('mobileclip2-b', 'MobileCLIP2-B', 'b', 224, hints('b', TEXT_MB.base)),
  // Tiny generated model that maps flat colours to known embeddings; it lets tests and the
  // offline demo run the whole pipeline without real weights. Never offered to users.
  fixture('fixture', 'Fixture (test colours)'),
  // The same files under another id, never bundled: e2e tests serve them from a local
  // Hugging Face style server to exercise the download path inside the extension.
  fixture('fixture-download', 'Fixture (download test)'),
  // The same files again, without pins: e2e tests of trust on first use (hub/trust.ts).
  fixture('fixture-unverified', 'Fixture (unverified source test)', false),
]);

function fixture(id: string, label: string, pinned = true): ModelSpec {
  const files: ModelSpec['files'] = {
    vision: { wasm: 'onnx/vision_model.onnx', webgpu: 'onnx/vision_model.onnx' },
    text: { wasm: 'onnx/text_model.onnx', webgpu: 'onnx/text_model.onnx' },
    tokenizer: 'bpe_simple_vocab_16e6.txt.gz',
  };
  return {
    id,
    label,
    repo: 'local/fixture',
    imageSize: 256,
    embedDim: 32,
    logitScale: LOGIT_SCALE,
    contextLength: CLIP_CONTEXT,
    files,
    relevance: FIXTURE_RELEVANCE,
    testOnly: true,
    // The files scripts/make-fixture-model.ts writes (a download of 'fixture-download' fetches them all).
    downloadBytes: 7_686_280,
    source: pinned ? pinsFor('local/fixture', files) : undefined,
  };
}

// A duplicated id would make settings and cache keys ambiguous; fail at import, not at runtime.
{
  const seen = new Set<string>();
  for (const m of MODELS) {
    if (seen.has(m.id)) throw new Error(`registry: duplicate model id '${m.id}'`);
    seen.add(m.id);
  }
}

/** The spec for an id, or undefined (settings may hold an id from an older version). */
export function getModel(id: string): ModelSpec | undefined {
  return MODELS.find((m) => m.id === id);
}

/** Like getModel but throws a message listing the known ids. */
export function requireModel(id: string): ModelSpec {
  const spec = getModel(id);
  if (!spec) {
    throw new Error(`unknown model '${id}'; known models: ${MODELS.map((m) => m.id).join(', ')}`);
  }
  return spec;
}

/** Models a person may choose (test-only entries excluded). */
export function publicModels(): ModelSpec[] {
  return MODELS.filter((m) => !m.testOnly);
}

/** The spec's relevance scales (see relevance.ts); the MobileCLIP estimate for specs made outside the registry. */
export function relevanceOf(spec: ModelSpec): ModelRelevance {
  return spec.relevance ?? MOBILECLIP_RELEVANCE;
}

/** The three files a backend loads. */
export interface BackendFiles {
  vision: string;
  text: string;
  tokenizer: string;
}

export function filesForBackend(spec: ModelSpec, backend: Backend): BackendFiles {
  return {
    vision: spec.files.vision[backend],
    text: spec.files.text[backend],
    tokenizer: spec.files.tokenizer,
  };
}

/**
 * The spec to use on a WebGPU device without 'shader-f16': the vision tower's fp32 file (the one
 * WASM uses) instead of fp16. ORT has no fp16 WebGPU kernels on such a device and would run the
 * fp16 graph op by op on the CPU, far slower than fp32 on the GPU.
 */
export function withoutFp16Vision(spec: ModelSpec): ModelSpec {
  return { ...spec, files: { ...spec.files, vision: { ...spec.files.vision, webgpu: spec.files.vision.wasm } } };
}

/**
 * True when the entry names a commit and a pin for every file any backend loads; otherwise its
 * source is unverified and downloads trust what they get the first time (hub/trust.ts).
 */
export function isPinned(spec: ModelSpec): boolean {
  const pins = spec.source?.files;
  return !!pins && requiredFiles(spec, ['wasm', 'webgpu']).every((p) => pins[p] !== undefined);
}

/** Unique repo-relative paths needed for any of the given backends (external data not included). */
export function requiredFiles(spec: ModelSpec, backends: readonly Backend[]): string[] {
  const paths: string[] = [];
  for (const backend of backends) {
    const f = filesForBackend(spec, backend);
    for (const p of [f.vision, f.text, f.tokenizer]) if (!paths.includes(p)) paths.push(p);
  }
  return paths;
}
