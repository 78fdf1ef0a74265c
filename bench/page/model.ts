// The model side of the page benchmark: architecture replicas (random weights, real sizes) laid
// out as the Hugging Face repo of a registry model, fetched with the extension's own download code
// from a local hub (e2e/hf-server.ts) and bundled into a release build, as `npm run
// models:fetch` + `npm run build` do for the real weights.
//
// Everything lands under .cache/bench-page/ (git-ignored); dist/ and models/ stay untouched, so a
// later `npm run package` can never ship the random weights.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startHfServer } from '../../e2e/hf-server.ts';
import { ARCHMODELS_SOURCE, CLIP_BPE_PATH, ensureArchModels, readArchModel } from '../../scripts/archmodels.ts';
import { fetchModel } from '../../scripts/fetch-model.ts';
import { inlineExternalData } from '../../src/engine/onnx-external.ts';
import { filesForBackend, requireModel } from '../../src/engine/registry.ts';
import type { ModelSpec } from '../../src/engine/types.ts';

export const BENCH_CACHE = join(import.meta.dirname, '../../.cache/bench-page');

/** Which replica towers stand in for which registry model. */
export const REPLICAS = {
  s0: { id: 'mobileclip-s0', vision: 'mci0', text: 'text_mct' },
  s1: { id: 'mobileclip-s1', vision: 'mci1', text: 'text_base' },
  s2: { id: 'mobileclip-s2', vision: 'mci2', text: 'text_base' },
  b: { id: 'mobileclip-b', vision: 'mcib', text: 'text_base' },
} as const;
export type ReplicaName = keyof typeof REPLICAS;

export interface PreparedModel {
  name: ReplicaName;
  spec: ModelSpec;
  vision: string;
  /** Replica actually behind the WASM text file (the registry picks the int8 export there). */
  text: string;
  /** The repo in the Hugging Face layout: `<hfDir>/onnx/...`. */
  hfDir: string;
  /** The unpacked release build for Chromium. */
  extensionDir: string;
}

/** The replica behind a repo file: `*_quantized.onnx` → `<name>_q8`, `*_fp16.onnx` → `<name>_fp16`. */
function replicaFor(path: string, base: string): string {
  if (path.endsWith('_quantized.onnx')) return `${base}_q8`;
  if (path.endsWith('_fp16.onnx')) return `${base}_fp16`;
  return base;
}

/** Graph files of both backends: the Chrome release build bundles what WebGPU loads too, though the benchmark runs WASM. */
const BACKENDS = ['wasm', 'webgpu'] as const;

/** Repo graph path → the replica written there (an fp16 replica where one exists, else the fp32 one in its place). */
function graphReplicas(spec: ModelSpec, vision: string, text: string): [path: string, replica: string][] {
  const out = new Map<string, string>();
  for (const backend of BACKENDS) {
    const f = filesForBackend(spec, backend);
    out.set(f.vision, replicaFor(f.vision, vision));
    out.set(f.text, replicaFor(f.text, text));
  }
  return [...out].map(([path, replica]) => [path, existsSync(join(ARCHMODELS_SOURCE, `${replica}.json`)) ? replica : replica.replace(/_(fp16|q8)$/, '')]);
}

/**
 * Writes the graph files of `spec` as one self-contained .onnx each (weights inlined, as the
 * published exports are). The tokenizer slot gets OpenAI's gzipped merges: the engine's
 * ClipTokenizer.load reads either format, and the image benchmark never needs a tokenizer.json
 * that other libraries understand.
 */
function writeHfLayout(dir: string, spec: ModelSpec, graphs: [path: string, replica: string][]): void {
  const f = filesForBackend(spec, 'wasm');
  for (const [path, replica] of graphs) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, inlineExternalData(readArchModel(replica)));
  }
  copyFileSync(CLIP_BPE_PATH, join(dir, f.tokenizer));
  // What transformers.js reads for CLIPVisionModelWithProjection + AutoProcessor.
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'clip', projection_dim: spec.embedDim }));
  writeFileSync(
    join(dir, 'preprocessor_config.json'),
    JSON.stringify({
      image_processor_type: 'CLIPImageProcessor',
      do_resize: true,
      size: { shortest_edge: spec.imageSize },
      resample: 2,
      do_center_crop: true,
      crop_size: { height: spec.imageSize, width: spec.imageSize },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: false,
      do_convert_rgb: true,
    }),
  );
}

/**
 * Replica files, HF layout and download through the local hub (each skipped when its output
 * exists; delete .cache/bench-page to start over), then a release build.
 */
export async function prepareModel(name: ReplicaName, log: (line: string) => void): Promise<PreparedModel> {
  const r = REPLICAS[name];
  const spec = requireModel(r.id);
  const text = replicaFor(filesForBackend(spec, 'wasm').text, r.text);
  const root = join(BENCH_CACHE, name);
  const hfDir = join(root, 'hf');
  const modelsDir = join(root, 'models');
  const outRoot = join(root, 'dist');
  const extensionDir = join(outRoot, 'chrome');
  const graphs = graphReplicas(spec, r.vision, r.text);
  if (!existsSync(join(hfDir, 'config.json')) || graphs.some(([path]) => !existsSync(join(hfDir, path)))) {
    log(`materialising ${graphs.map(([, replica]) => replica).join(' + ')} and writing the ${spec.repo} layout`);
    ensureArchModels(graphs.map(([, replica]) => replica));
    rmSync(hfDir, { recursive: true, force: true });
    writeHfLayout(hfDir, spec, graphs);
  }
  if (graphs.some(([path]) => !existsSync(join(modelsDir, spec.id, path)))) {
    log(`fetching ${spec.id} from a local hub with the extension's download code`);
    const hub = await startHfServer(hfDir, spec.repo);
    try {
      // The replicas are not the published files: fetched as an explicitly named other revision,
      // so the registry's pins (which would refuse them as changed upstream) do not apply.
      await fetchModel({ id: spec.id, baseUrl: hub.origin, backend: 'all', outDir: modelsDir, revision: 'main' });
    } finally {
      await hub.close();
    }
  }
  // Always rebuilt: the benchmark measures the extension as the source stands now.
  {
    log('building the release extension for Chromium');
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../../scripts/build.ts'), '--target', 'chrome', '--models', modelsDir, '--out', outRoot],
      { stdio: 'inherit', cwd: join(import.meta.dirname, '../..') },
    );
  }
  const bundled = JSON.parse(readFileSync(join(extensionDir, 'bundled-models.json'), 'utf8')) as string[];
  if (!bundled.includes(spec.id)) throw new Error(`${extensionDir} does not bundle ${spec.id} (bundled: ${bundled.join(', ') || 'none'})`);
  return { name, spec, vision: r.vision, text, hfDir, extensionDir };
}
