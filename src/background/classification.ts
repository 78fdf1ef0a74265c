// Zero-shot classification of one image: the "Classify image" menu, the popup's Classify
// button, and the label embeddings (mean over prompt templates) both use.
import browser, { type Menus, type Tabs } from 'webextension-polyfill';
import { defaultLabels, labelPrompts, PROMPT_TEMPLATES } from '../engine/labels';
import { classifyZeroShot, meanEmbedding } from '../engine/similarity';
import type { LabelProbability } from '../messages';
import { loadSettings } from '../settings';
import { describe } from '../errors';
import type { LoadedModel } from './engine-host';
import type { EmbeddingPipeline } from './embedding-pipeline';
import { sendToTab } from './page-commands';
import { embedTexts } from './text-embeddings';
import { getTab, type TabState } from './tabs';

const MENU_CLASSIFY = 'classify-image';
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

  /** The Classify command (menu or popup): the labels from the settings unless given, and the answer shown on the page. */
  async classifyImage(tabId: number | null, url: string, labels?: string[], frameId?: number): Promise<LabelProbability[]> {
    const tab = tabId === null ? undefined : getTab(tabId);
    const model = await this.pipeline.model();
    const settings = await loadSettings();
    const labelSet = labels ?? (settings.labels.length > 0 ? settings.labels : defaultLabels(model.spec));
    const result = await this.classify(url, labelSet, tab, frameId);
    if (tabId !== null) {
      sendToTab(tabId, { type: 'show-classification', url, labels: result.slice(0, SHOWN_ON_PAGE) }, frameId);
      this.onClassified(tabId);
    }
    return result;
  }

  /** The context menu's click: failures are shown on the page next to the image. */
  onMenuClicked(info: Menus.OnClickData, tab: Tabs.Tab | undefined): void {
    if (info.menuItemId !== MENU_CLASSIFY || !info.srcUrl) return;
    const url = info.srcUrl;
    this.classifyImage(tab?.id ?? null, url, undefined, info.frameId).catch((error: unknown) => {
      console.error('classify failed', error);
      if (tab?.id !== undefined)
        sendToTab(tab.id, { type: 'show-classification', url, labels: [], error: `Could not classify this image: ${describe(error)}` }, info.frameId);
    });
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

export function createClassifyMenu(): void {
  browser.contextMenus
    .removeAll()
    .then(() => browser.contextMenus.create({ id: MENU_CLASSIFY, title: 'Classify image', contexts: ['image'] }));
}
