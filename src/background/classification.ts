// Zero-shot classification of one image, for the "Classify image" menu (page-menu.ts) and the
// popup's Classify button, with the label embeddings (mean over prompt templates) both use.
import { defaultLabels, labelPrompts, PROMPT_TEMPLATES } from '../engine/labels';
import { classifyZeroShot, meanEmbedding } from '../engine/similarity';
import type { LabelProbability, PageCommand } from '../messages';
import { loadSettings } from '../settings';
import { describe } from '../errors';
import type { LoadedModel } from './engine-host';
import type { EmbeddingPipeline } from './embedding-pipeline';
import { sendToTab } from './page-commands';
import { embedTexts } from './text-embeddings';
import { getTab, type TabState } from './tabs';

/** Labels shown on the page next to the image. */
const SHOWN_ON_PAGE = 5;

export class Classifier {
  /** Label embeddings, per model and label. */
  private readonly labelCache = new Map<string, Float32Array>();

  constructor(
    private readonly pipeline: EmbeddingPipeline,
    /** A tab's image was classified (its embedding stats changed). */
    private readonly onClassified: (tabId: number) => void = () => undefined,
  ) {}

  /** Probabilities over `labels`, most probable first. The image's embedding comes from the pipeline (cached when indexed). */
  async classify(url: string, labels: string[], tab?: TabState, frameId?: number): Promise<LabelProbability[]> {
    const image = await this.pipeline.embed({ url, tab, frameId });
    if (image.kind !== 'embedding') throw new Error('no embedding for this image');
    const model = await this.pipeline.model();
    const vectors = await this.labelVectors(model, labels, !tab?.incognito);
    return classifyZeroShot(image.embedding, labels.map((label, i) => ({ label, embedding: vectors[i] })), model.spec.logitScale);
  }

  /**
   * The Classify command (menu or popup): the labels from the settings unless given. The page's
   * card shows at once, pending (the first use embeds the label set), then the answer or the failure.
   */
  async classifyImage(tabId: number | null, url: string, labels?: string[], frameId?: number): Promise<LabelProbability[]> {
    const show = (command: Omit<Extract<PageCommand, { type: 'show-classification' }>, 'type' | 'url'>) => {
      if (tabId !== null) sendToTab(tabId, { type: 'show-classification', url, ...command }, frameId);
    };
    show({ labels: [], pending: true });
    try {
      const tab = tabId === null ? undefined : getTab(tabId);
      const model = await this.pipeline.model();
      const settings = await loadSettings();
      const labelSet = labels ?? (settings.labels.length > 0 ? settings.labels : defaultLabels(model.spec));
      const result = await this.classify(url, labelSet, tab, frameId);
      show({ labels: result.slice(0, SHOWN_ON_PAGE) });
      if (tabId !== null) this.onClassified(tabId);
      return result;
    } catch (error) {
      show({ labels: [], error: `Could not classify this image: ${describe(error)}` });
      throw error;
    }
  }

  private async labelVectors(model: LoadedModel, labels: string[], persist: boolean): Promise<Float32Array[]> {
    const key = (label: string) => `${model.spec.id}\u0000${label}`;
    const missing = labels.filter((l) => !this.labelCache.has(key(l)));
    if (missing.length > 0) {
      const vectors = await embedTexts(model, missing.flatMap(labelPrompts), persist);
      const per = PROMPT_TEMPLATES.length;
      missing.forEach((label, i) => this.labelCache.set(key(label), meanEmbedding(vectors.slice(i * per, (i + 1) * per))));
    }
    return labels.map((l) => this.labelCache.get(key(l))!);
  }
}
