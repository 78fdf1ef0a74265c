// Label embeddings per model and label set: the mean over the set's templates for each label.
// A large set (ImageNet-1k: 7,000 prompts) is embedded once, in chunks, with progress the
// popup and options page show; a chunk at a time keeps the engine free for other requests
// (a small set's classification, searches) in between. The vectors of a set are kept in
// memory and as one record in IndexedDB, keyed by the set's content (editing a set re-embeds it).
import { sha256Hex } from '../bytes';
import type { LabelSet } from '../engine/label-sets';
import { setPrompts } from '../engine/label-sets';
import { meanEmbedding } from '../engine/similarity';

/** Prompts per engine call: small enough that other requests wait at most one chunk. */
export const PROMPTS_PER_CHUNK = 64;
/** Sets kept in memory (an ImageNet set is 2 MB at 512 dimensions). */
const MEMORY_SETS = 6;

export interface LabelJobProgress {
  setId: string;
  name: string;
  modelId: string;
  /** Prompts embedded so far, and in all. */
  done: number;
  total: number;
}

/** The text tower of one model. */
export interface LabelModel {
  id: string;
  embedTexts(texts: string[]): Promise<Float32Array[]>;
}

export interface LabelVectorStore {
  /** The set's stored vectors, concatenated (labels × dimensions), if any. */
  load(modelId: string, key: string): Promise<Float32Array | undefined>;
  save(modelId: string, key: string, vectors: Float32Array): Promise<void>;
}

export class LabelVectors {
  private readonly memory = new Map<string, Float32Array[]>();
  private readonly running = new Map<string, Promise<Float32Array[]>>();
  private readonly jobs = new Map<string, LabelJobProgress>();

  constructor(
    private readonly store: LabelVectorStore,
    /** Progress changed (a job started, advanced or ended). */
    private readonly onProgress: (jobs: LabelJobProgress[]) => void = () => undefined,
  ) {}

  /** Jobs under way, for progress lines. */
  progress(): LabelJobProgress[] {
    return [...this.jobs.values()].map((j) => ({ ...j }));
  }

  /** One unit vector per label of the set, in the set's order. */
  async vectors(model: LabelModel, set: LabelSet): Promise<Float32Array[]> {
    const key = `${model.id}\u0000${await setKey(set)}`;
    const known = this.memory.get(key);
    if (known) {
      // Most recently used last: the first key is the one to drop.
      this.memory.delete(key);
      this.memory.set(key, known);
      return known;
    }
    let job = this.running.get(key);
    if (!job) {
      job = this.compute(model, set, key).finally(() => this.running.delete(key));
      this.running.set(key, job);
    }
    return job;
  }

  private async compute(model: LabelModel, set: LabelSet, key: string): Promise<Float32Array[]> {
    const storeKey = key.slice(model.id.length + 1);
    const stored = await this.store.load(model.id, storeKey).catch(() => undefined);
    let vectors = stored ? split(stored, set.labels.length) : null;
    if (!vectors) {
      vectors = await this.embed(model, set, key);
      await this.store.save(model.id, storeKey, concat(vectors)).catch(() => undefined); // memory still answers
    }
    this.memory.set(key, vectors);
    if (this.memory.size > MEMORY_SETS) this.memory.delete(this.memory.keys().next().value!);
    return vectors;
  }

  private async embed(model: LabelModel, set: LabelSet, key: string): Promise<Float32Array[]> {
    const per = set.templates.length;
    const labelsPerChunk = Math.max(1, Math.floor(PROMPTS_PER_CHUNK / per));
    const job: LabelJobProgress = { setId: set.id, name: set.name, modelId: model.id, done: 0, total: set.labels.length * per };
    this.jobs.set(key, job);
    this.onProgress(this.progress());
    try {
      const out: Float32Array[] = [];
      for (let start = 0; start < set.labels.length; start += labelsPerChunk) {
        const labels = set.labels.slice(start, start + labelsPerChunk);
        const prompts = await model.embedTexts(labels.flatMap((label) => setPrompts(set, label)));
        labels.forEach((_, i) => out.push(meanEmbedding(prompts.slice(i * per, (i + 1) * per))));
        job.done += labels.length * per;
        this.onProgress(this.progress());
      }
      return out;
    } finally {
      this.jobs.delete(key);
      this.onProgress(this.progress());
    }
  }
}

/** The set's content (labels and templates, not its name): equal content shares vectors. */
async function setKey(set: LabelSet): Promise<string> {
  const text = JSON.stringify([set.templates, set.labels]);
  return `label-set:${await sha256Hex(new TextEncoder().encode(text))}`;
}

function concat(vectors: Float32Array[]): Float32Array {
  const dim = vectors[0]?.length ?? 0;
  const out = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => out.set(v, i * dim));
  return out;
}

/** Null when the stored record does not divide into the labels (written by another build). */
function split(all: Float32Array, count: number): Float32Array[] | null {
  if (count === 0 || all.length % count !== 0 || all.length === 0) return null;
  const dim = all.length / count;
  return Array.from({ length: count }, (_, i) => all.slice(i * dim, (i + 1) * dim));
}
