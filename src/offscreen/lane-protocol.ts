// Messages between the engine and its vision lane (vision-lane-worker.ts).

import type { ModelSpec } from '../engine/types';
import type { ModelSource } from './protocol';

export type LaneRequest =
  /** The lane reads the model's vision graph from `source` and opens it on `threads` ORT threads, to run at most `maxBatch` images at a time. */
  | { id: number; op: 'open'; spec: ModelSpec; source: ModelSource; threads: number; maxBatch: number }
  /** CHW float32 [count, 3, size, size]; the buffer is transferred. */
  | { id: number; op: 'images'; pixels: Float32Array; count: number };

export type LaneReply =
  | { id: number; ok: true; rows?: Float32Array[] }
  | { id: number; ok: false; error: string };

const positiveInteger = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0;

function isSource(x: unknown): x is ModelSource {
  const s = x as { kind?: unknown; baseUrl?: unknown } | null;
  return typeof s === 'object' && s !== null && (s.kind === 'bundled' || s.kind === 'store') && typeof s.baseUrl === 'string';
}

/** What the lane reads of a spec: its id and files (the registry's shape), and its image size. */
function isSpec(x: unknown): x is ModelSpec {
  const s = x as { id?: unknown; imageSize?: unknown; files?: unknown } | null;
  return typeof s === 'object' && s !== null && typeof s.id === 'string' && positiveInteger(s.imageSize) && typeof s.files === 'object' && s.files !== null;
}

export function isLaneRequest(data: unknown): data is LaneRequest {
  if (typeof data !== 'object' || data === null) return false;
  const r = data as Record<string, unknown>;
  if (typeof r.id !== 'number') return false;
  if (r.op === 'images') return r.pixels instanceof Float32Array && positiveInteger(r.count);
  return r.op === 'open' && isSpec(r.spec) && isSource(r.source) && positiveInteger(r.threads) && positiveInteger(r.maxBatch);
}

export function isLaneReply(data: unknown): data is LaneReply {
  if (typeof data !== 'object' || data === null) return false;
  const r = data as Record<string, unknown>;
  if (typeof r.id !== 'number') return false;
  if (r.ok === false) return typeof r.error === 'string';
  return r.ok === true && (r.rows === undefined || (Array.isArray(r.rows) && r.rows.every((row) => row instanceof Float32Array)));
}
