// Which of a fetched model's files a build ships: only those a backend of that browser loads.
// Firefox builds have no WebGPU, so its graphs (fp16 vision, fp32 text) would be dead weight
// there; Chrome builds ship both backends' files.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MANIFEST_FILE, parseManifest } from '../src/engine/hub/manifest.ts';
import { requiredFiles } from '../src/engine/registry.ts';
import type { Backend, ModelSpec } from '../src/engine/types.ts';
import type { Target } from './manifest.ts';

/** The backends a build for `target` can run (the Firefox build bundles no WebGPU runtime). */
function backendsOf(target: Target): Backend[] {
  return target === 'chrome' ? ['wasm', 'webgpu'] : ['wasm'];
}

/** Repo paths a build for `target` needs: each backend's graphs with their external data, the tokenizer. */
function bundledPaths(spec: ModelSpec, target: Target, externalData: Record<string, string[]>): string[] {
  const paths = requiredFiles(spec, backendsOf(target));
  return [...paths, ...paths.flatMap((p) => externalData[p] ?? [])];
}

/**
 * Copies what a build for `target` needs from a fetched model directory (`from`, as `npm run
 * models:fetch` writes it) to `to`, with a manifest.json that lists only those files. Throws,
 * naming the file, if one is missing.
 */
export function bundleModel(spec: ModelSpec, from: string, to: string, target: Target): string[] {
  const manifestPath = join(from, MANIFEST_FILE);
  const manifest = existsSync(manifestPath) ? parseManifest(readFileSync(manifestPath), manifestPath) : undefined;
  const paths = bundledPaths(spec, target, manifest?.externalData ?? {});
  for (const p of paths) {
    if (!existsSync(join(from, p))) throw new Error(`model ${spec.id}: ${p} (needed by the ${target} build) is missing from ${from}`);
    mkdirSync(dirname(join(to, p)), { recursive: true });
    copyFileSync(join(from, p), join(to, p));
  }
  if (manifest) {
    const keep = (rec: Record<string, unknown>) => Object.fromEntries(Object.entries(rec).filter(([p]) => paths.includes(p)));
    const trimmed = { ...manifest, files: keep(manifest.files), externalData: keep(manifest.externalData) };
    writeFileSync(join(to, MANIFEST_FILE), JSON.stringify(trimmed, null, 2));
  }
  return paths;
}
