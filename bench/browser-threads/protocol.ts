// Messages between the bench extension's service worker and its pages.

import type { RunnerAnswer, RunnerCommand } from './runner.ts';

/** Which extension page a runtime message is for. */
export type PageRole = 'offscreen' | 'tab';

/** chrome.runtime messages to a page (small, JSON-serialised by Chrome). */
export type PageCommand =
  | { target: PageRole; type: 'runner'; cmd: RunnerCommand }
  /** The JSON transport under test: pixels as a plain number array. */
  | { target: PageRole; type: 'echo-json'; pixels: number[]; rows: number; dim: number };

export type PageReply =
  | { ok: true; answer: RunnerAnswer }
  | { ok: true; rows: number[][]; received: number; last: number }
  | { ok: false; error: string };

/** A batch sent over BroadcastChannel or MessagePort (structured clone, optionally transferred). */
export interface PixelsMessage {
  id: number;
  pixels: Float32Array;
  rows: number;
  dim: number;
}
/** The answer: `rows` embeddings of `dim` floats, plus what arrived, to check the transport. */
export interface RowsMessage {
  id: number;
  rows: Float32Array[];
  received: number;
  last: number;
}

export const CHANNEL = 'bench-transport';

/** Stand-in embeddings: what the engine would send back for a batch. */
export function fakeRows(rows: number, dim: number): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => new Float32Array(dim).map((_, i) => Math.sin(r * dim + i)));
}
