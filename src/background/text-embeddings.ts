// Text embeddings (queries, label prompts) with their caches: memory for this background's
// lifetime, IndexedDB across restarts (except for incognito tabs).
import { getQuery, putQueries } from '../store/db';
import type { LoadedModel } from './engine-host';
import { LruMap } from './lru';

/** Enough for a few label sets and every query typed in a session (512 floats each). */
const MEMORY_LIMIT = 4_000;
const memory = new LruMap<string, Float32Array>(MEMORY_LIMIT);

export async function embedTexts(model: LoadedModel, texts: string[], persist: boolean): Promise<Float32Array[]> {
  const key = (text: string) => `${model.spec.id}\u0000${text}`;
  const out: (Float32Array | undefined)[] = texts.map((t) => memory.get(key(t)));
  const missing: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    if (out[i]) continue;
    const stored = await getQuery(model.spec.id, texts[i]).catch(() => undefined);
    if (stored) out[i] = stored;
    else missing.push(i);
  }
  if (missing.length > 0) {
    const vectors = await model.engine.embedTexts(missing.map((i) => texts[i]));
    missing.forEach((i, k) => (out[i] = vectors[k]));
    if (persist) await putQueries(model.spec.id, missing.map((i) => ({ text: texts[i], vector: out[i]! }))).catch(() => undefined);
  }
  texts.forEach((t, i) => memory.set(key(t), out[i]!));
  return out as Float32Array[];
}
