// Text queries → ranked images, and zero-shot classification.
import { combineQueries, dot, l2normalize, meanEmbedding, parseQueryExpression, softmax } from '../engine/similarity';
import { getQuery, putQueries } from '../store/db';
import type { LabelProbability, SearchResult } from '../messages';
import type { LoadedModel } from './engine-host';
import type { TabState } from './tabs';

/** Recent text embeddings of this background's lifetime; IndexedDB keeps them across restarts. */
const memory = new Map<string, Float32Array>();
/** Enough for a few label sets and every query typed in a session (512 floats each). */
const MEMORY_LIMIT = 4_000;

function remember(key: string, vector: Float32Array): void {
  memory.delete(key); // re-inserting moves it to the young end of the Map's order
  memory.set(key, vector);
  if (memory.size > MEMORY_LIMIT) memory.delete(memory.keys().next().value!);
}

export async function embedTexts(model: LoadedModel, texts: string[], persist: boolean): Promise<Float32Array[]> {
  const out: (Float32Array | undefined)[] = texts.map((t) => memory.get(`${model.spec.id}\u0000${t}`));
  const missing: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    if (out[i]) continue;
    const stored = await getQuery(model.spec.id, texts[i]).catch(() => undefined);
    if (stored) out[i] = stored;
    else missing.push(i);
  }
  if (missing.length > 0) {
    const raw = await model.engine.embedTexts(missing.map((i) => texts[i]));
    missing.forEach((i, k) => (out[i] = l2normalize(raw[k])));
    if (persist) await putQueries(model.spec.id, missing.map((i) => ({ text: texts[i], vector: out[i]! }))).catch(() => undefined);
  }
  texts.forEach((t, i) => remember(`${model.spec.id}\u0000${t}`, out[i]!));
  return out as Float32Array[];
}

/** The query as one normalised vector; "a + b" and "a - b" combine the terms' embeddings. */
export async function queryVector(model: LoadedModel, query: string, persist: boolean): Promise<Float32Array | null> {
  const terms = parseQueryExpression(query);
  // Only subtractions ("- people") leave nothing to look for.
  if (!terms.some((t) => t.sign > 0)) return null;
  const vectors = await embedTexts(model, terms.map((t) => t.text), persist);
  return combineQueries(terms.map((t, i) => ({ embedding: vectors[i], sign: t.sign })));
}

/**
 * Ranks the tab's indexed images. What counts as a match is relative to this page's scores:
 * CLIP cosines sit in a narrow band whose level depends on the model and the page, so a fixed
 * threshold would be wrong on most pages. A match stands clearly above the page's typical
 * score (mean + 1 standard deviation), and the best image always counts.
 */
export function rank(tab: TabState, query: Float32Array, modelId: string): SearchResult[] {
  const scored: SearchResult[] = [];
  for (const entry of tab.entries.values()) {
    if (entry.status !== 'indexed' || !entry.embedding || entry.modelId !== modelId) continue;
    scored.push({
      url: entry.url,
      score: dot(query, entry.embedding),
      rank: 0,
      alt: entry.found.alt,
      width: entry.found.width,
      height: entry.found.height,
      match: false,
    });
  }
  scored.sort((a, b) => b.score - a.score);
  const mean = scored.reduce((s, r) => s + r.score, 0) / Math.max(1, scored.length);
  const sd = Math.sqrt(scored.reduce((s, r) => s + (r.score - mean) ** 2, 0) / Math.max(1, scored.length));
  scored.forEach((r, i) => {
    r.rank = i + 1;
    r.match = i === 0 || (scored.length > 2 && r.score >= mean + sd);
  });
  return scored;
}

// ------------------------------------------------------------------ classification

const TEMPLATES = ['a photo of a {}.', 'a photo of the {}.', 'a close-up photo of a {}.', 'a bright photo of a {}.'];
/** Label embeddings (mean over templates), per model and label. */
const labelCache = new Map<string, Float32Array>();

async function labelVectors(model: LoadedModel, labels: string[], persist: boolean): Promise<Float32Array[]> {
  const missing = labels.filter((l) => !labelCache.has(`${model.spec.id}\u0000${l}`));
  if (missing.length > 0) {
    const prompts = missing.flatMap((l) => TEMPLATES.map((t) => t.replace('{}', l)));
    const vectors = await embedTexts(model, prompts, persist);
    missing.forEach((label, i) => {
      const perTemplate = vectors.slice(i * TEMPLATES.length, (i + 1) * TEMPLATES.length);
      labelCache.set(`${model.spec.id}\u0000${label}`, meanEmbedding(perTemplate));
    });
  }
  return labels.map((l) => labelCache.get(`${model.spec.id}\u0000${l}`)!);
}

export async function classify(model: LoadedModel, image: Float32Array, labels: string[], persist: boolean): Promise<LabelProbability[]> {
  const vectors = await labelVectors(model, labels, persist);
  const logits = vectors.map((v) => model.spec.logitScale * dot(image, v));
  const probabilities = softmax(logits);
  return labels
    .map((label, i) => ({ label, probability: probabilities[i] }))
    .sort((a, b) => b.probability - a.probability);
}
