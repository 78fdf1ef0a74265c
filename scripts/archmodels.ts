// Access to the architecture replicas in ../shared/archmodels (MobileCLIP towers with random
// weights) for Node tests, benchmarks and the parity e2e test. Their weights are generated
// on demand into the git-ignored .cache/archmodels; ../shared stays read-only and nothing
// from it is copied into the repository.
//
// Random weights: use these for speed, memory and runtime-parity checks, never accuracy.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelBytes, ModelSpec } from '../src/engine/types.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const ARCHMODELS_SOURCE = resolve(ROOT, '../shared/archmodels');
export const ARCHMODELS_DIR = resolve(ROOT, '.cache/archmodels');
export const CLIP_BPE_PATH = resolve(ROOT, '../shared/clip-bpe/bpe_simple_vocab_16e6.txt.gz');

interface ArchMeta {
  input: string;
  output: string;
  input_shape: number[];
  bin: string;
  bin_bytes: number;
}

/** A replica's metadata (`../shared/archmodels/<name>.json`): input and output names, input shape, weights file. */
export function archModelMeta(name: string): ArchMeta {
  return JSON.parse(readFileSync(join(ARCHMODELS_SOURCE, `${name}.json`), 'utf8')) as ArchMeta;
}

function complete(name: string): boolean {
  const m = archModelMeta(name);
  const bin = join(ARCHMODELS_DIR, m.bin);
  return existsSync(join(ARCHMODELS_DIR, `${name}.onnx`)) && existsSync(bin) && statSync(bin).size === m.bin_bytes;
}

/**
 * Makes sure .cache/archmodels holds <name>.onnx + its weights for each name; returns the
 * directory. Materialises into a private temporary directory and renames into place, so
 * test files running in parallel never read a half-written file.
 */
export function ensureArchModels(names: readonly string[]): string {
  const missing = names.filter((n) => !complete(n));
  if (missing.length === 0) return ARCHMODELS_DIR;
  const tmp = join(ARCHMODELS_DIR, `.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    execFileSync(process.execPath, [join(ARCHMODELS_SOURCE, 'materialize.mjs'), tmp, ...missing], { stdio: 'pipe' });
    for (const file of readdirSync(tmp)) renameSync(join(tmp, file), join(ARCHMODELS_DIR, file));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return ARCHMODELS_DIR;
}

/** Model bytes plus external data, as the engine's loadFiles() hands them over. */
export function readArchModel(name: string): ModelBytes {
  const m = archModelMeta(name);
  return {
    model: new Uint8Array(readFileSync(join(ARCHMODELS_DIR, `${name}.onnx`))),
    externalData: [{ path: m.bin, data: new Uint8Array(readFileSync(join(ARCHMODELS_DIR, m.bin))) }],
  };
}

/** A ModelSpec describing a pair of replica towers (both replicas take raw [0,1] pixels). */
export function archModelSpec(vision: string, text: string): ModelSpec {
  const size = archModelMeta(vision).input_shape[3];
  return {
    id: `archmodels-${vision}-${text}`,
    label: `Architecture replica ${vision} + ${text} (random weights)`,
    repo: 'local/archmodels',
    imageSize: size,
    embedDim: vision === 'mci3' ? 768 : 512,
    logitScale: 100,
    contextLength: 77,
    files: {
      vision: { wasm: `${vision}.onnx`, webgpu: `${vision}.onnx` },
      text: { wasm: `${text}.onnx`, webgpu: `${text}.onnx` },
      tokenizer: 'bpe_simple_vocab_16e6.txt.gz',
    },
    testOnly: true,
  };
}
