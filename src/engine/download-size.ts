// How many bytes a download will fetch, said before it starts: the person confirms this number,
// so it has to cover every file the backend policy will go on to fetch, not only the first ones.

import { requiredFiles } from './registry.ts';
import type { Backend, ModelSpec } from './types.ts';

/**
 * Bytes of the files `fetch` needs that the `stored` backends' files do not already provide.
 * Each file counts its pin (`spec.source`); WASM files without one are covered together by the
 * registry's estimate `downloadBytes`, which is about exactly those files. Null when some file has
 * neither (an unpinned WebGPU-only file, or no estimate): the confirmation then names no size.
 * Pass the spec the WebGPU backend will load (withoutFp16Vision on a GPU without fp16 shaders).
 */
export function downloadSize(spec: ModelSpec, fetch: readonly Backend[], stored: readonly Backend[] = []): number | null {
  const present = new Set(requiredFiles(spec, stored));
  const needed = requiredFiles(spec, fetch).filter((path) => !present.has(path));
  const wasmFiles = new Set(requiredFiles(spec, ['wasm']));
  const pins = spec.source?.files ?? {};
  const sum = (paths: string[]) => (paths.every((p) => pins[p]) ? paths.reduce((total, p) => total + pins[p]!.size, 0) : null);

  const wasm = needed.filter((p) => wasmFiles.has(p));
  const others = needed.filter((p) => !wasmFiles.has(p));
  const wasmBytes = sum(wasm) ?? spec.downloadBytes ?? null;
  const otherBytes = sum(others);
  return wasmBytes === null || otherBytes === null ? null : wasmBytes + otherBytes;
}
