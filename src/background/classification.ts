// Zero-shot classification: one image, for the "Classify image" menu (page-menu.ts) and the
// popup's Classify button, and every indexed image of a page at once (the popup's "Label all").
// Label embeddings come from label-vectors.ts (mean over the set's templates, embedded once).
import { EVERYDAY_SET_ID, sanitizeLabelSet, type LabelSet } from '../engine/label-sets';
import { classifyZeroShot, zeroShot } from '../engine/similarity';
import type { LabelProbability, PageClassification, PageCommand } from '../messages';
import { findLabelSet, loadLabelSetChoice } from '../label-set-store';
import { describe } from '../errors';
import type { LoadedModel } from './engine-host';
import type { EmbeddingPipeline } from './embedding-pipeline';
import type { LabelVectors } from './label-vectors';
import { sendToTab } from './page-commands';
import { getTab, previewField, type TabState } from './tabs';
import { t } from '../i18n';

/** Labels shown on the page next to the image. */
const SHOWN_ON_PAGE = 5;

export class Classifier {
  constructor(
    private readonly pipeline: EmbeddingPipeline,
    private readonly labelVectors: LabelVectors,
    /** A tab's image was classified (its embedding stats changed). */
    private readonly onClassified: (tabId: number) => void = () => undefined,
  ) {}

  /** Probabilities over the set's labels, most probable first. The image's embedding comes from the pipeline (cached when indexed). */
  async classify(url: string, set: LabelSet, tab?: TabState, frameId?: number): Promise<LabelProbability[]> {
    const image = await this.pipeline.embed({ url, tab, frameId, urgent: true });
    if (image.kind !== 'embedding') throw new Error('no embedding for this image');
    const model = await this.pipeline.model();
    const vectors = await this.vectorsFor(model, set);
    return classifyZeroShot(image.embedding, set.labels.map((label, i) => ({ label, embedding: vectors[i] })), model.spec.logitScale);
  }

  /**
   * The Classify command (menu or popup): the active label set unless labels are given. The
   * page's card shows at once, pending (the first use embeds the label set), then the answer or the failure.
   */
  async classifyImage(tabId: number | null, url: string, labels?: string[], frameId?: number): Promise<LabelProbability[]> {
    const show = (command: Omit<Extract<PageCommand, { type: 'show-classification' }>, 'type' | 'url'>) => {
      if (tabId !== null) sendToTab(tabId, { type: 'show-classification', url, ...command }, frameId);
    };
    show({ labels: [], pending: true });
    try {
      const tab = tabId === null ? undefined : getTab(tabId);
      const set = await this.labelSet(labels);
      const result = await this.classify(url, set, tab, frameId);
      show({ labels: result.slice(0, SHOWN_ON_PAGE) });
      if (tabId !== null) this.onClassified(tabId);
      return result;
    } catch (error) {
      show({ labels: [], error: describe(error) });
      throw error;
    }
  }

  /**
   * Every indexed image of the tab gets its most probable label, from the embedding the index
   * holds (no image runs through the model); images still waiting or failed are counted apart.
   */
  async classifyPage(tabId: number, setId?: string): Promise<PageClassification> {
    const tab = getTab(tabId);
    if (!tab) throw new Error(t('bgNoImagesYet'));
    const model = await this.pipeline.model();
    const set = await this.labelSet(undefined, setId);
    const vectors = await this.vectorsFor(model, set);
    const groups = new Map<string, PageClassification['groups'][number]['images']>();
    let notIndexed = 0;
    for (const entry of tab.allEntries()) {
      if (entry.status === 'duplicate') continue; // shown once, as its original
      if (entry.status !== 'indexed' || !entry.embedding || entry.modelId !== model.spec.id) {
        notIndexed++;
        continue;
      }
      const probabilities = zeroShot(entry.embedding, vectors, model.spec.logitScale);
      let best = 0;
      for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
      const label = set.labels[best];
      const list = groups.get(label) ?? [];
      list.push({ url: entry.url, probability: probabilities[best], ...previewField(entry) });
      groups.set(label, list);
    }
    return {
      setId: set.id,
      setName: set.name,
      notIndexed,
      groups: [...groups]
        .map(([label, images]) => ({ label, images: images.sort((a, b) => b.probability - a.probability) }))
        .sort((a, b) => b.images.length - a.images.length || a.label.localeCompare(b.label)),
    };
  }

  /** Embeds a set's labels ahead of use (the options page chose it), with progress. */
  async prepare(setId: string): Promise<void> {
    const model = await this.pipeline.model();
    await this.vectorsFor(model, await this.labelSet(undefined, setId));
  }

  /** Labels given ad hoc use the everyday templates; else the chosen set (the active one by default). */
  private async labelSet(labels?: string[], setId?: string): Promise<LabelSet> {
    const model = await this.pipeline.model();
    const choice = await loadLabelSetChoice();
    if (labels) {
      const everyday = findLabelSet(model.spec, choice, EVERYDAY_SET_ID);
      const adHoc = sanitizeLabelSet({ name: 'Labels', labels, templates: everyday.templates });
      if (adHoc) return adHoc;
    }
    return findLabelSet(model.spec, choice, setId);
  }

  private vectorsFor(model: LoadedModel, set: LabelSet): Promise<Float32Array[]> {
    return this.labelVectors.vectors({ id: model.spec.id, embedTexts: (texts) => model.engine.embedTexts(texts) }, set);
  }
}
