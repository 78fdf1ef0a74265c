// The one message protocol between the extension's contexts: every message is a member of a
// discriminated union, each request type maps to its response type, and every listener runs the
// matching parser of message-validators.ts before acting (content scripts live in pages we do not
// trust, and a popup may be stale after an update).

import type { Backend } from './engine/types';
import type { ReferrerPolicyToken } from './referrer-policy';

// ---------------------------------------------------------------- shared shapes

/** An image the content script saw on the page. */
export interface FoundImage {
  /**
   * Absolute URL (http, https, data or blob), or a `lens-local:` name for pixels that exist only
   * in the page (inline SVG, canvas, very long data: URLs): the background asks the frame for those.
   */
  url: string;
  /** Which kind of element or style the image came from. */
  kind: 'img' | 'picture' | 'background' | 'svg' | 'canvas' | 'poster' | 'input';
  /** Rendered size in CSS pixels. */
  width: number;
  height: number;
  /** Distance from the top of the document, for visible-first, top-to-bottom ordering. */
  top: number;
  /** Rendered and in the viewport or reachable by scrolling (not display:none / zero opacity). */
  visible: boolean;
  alt: string;
  /** The policy the page's own request uses (element attribute, else `<meta name=referrer>`); absent: the default. */
  referrerPolicy?: ReferrerPolicyToken;
}

export interface SearchResult {
  url: string;
  /** Raw cosine similarity to the query. */
  score: number;
  /** 0..1 on the model's calibrated scale (engine/relevance.ts): what the popup shows. */
  relevance: number;
  rank: number;
  alt: string;
  width: number;
  height: number;
  /** Passes the model's floor and stands out from this page's scores (engine/relevance.ts); highlighted on the page. */
  match: boolean;
  /** Set on results from another page (other tab or history): where the picture was seen. */
  pageUrl?: string;
  pageTitle?: string;
  /** The page's favicon address (http(s) or data:image), if it had one. */
  favicon?: string | null;
  /** The background holds the small preview made when the picture was decoded for the model (the popup shows that: see popup/thumbnail.ts). */
  preview?: boolean;
}

/** Where a search looks: this page, every open tab, or everything seen (the stored history). */
export type SearchScope = 'page' | 'tabs' | 'all';
export const SEARCH_SCOPES: readonly SearchScope[] = ['page', 'tabs', 'all'];

/** The tab's store: persistent, or in memory for private windows; its last failure, if any. */
export interface StorageView {
  persistent: boolean;
  error: { kind: 'quota' | 'unavailable' | 'other'; message: string; at: number } | null;
  /** Failed storage operations since the store opened. */
  errors: number;
}

/** The visual memory as the tab's popup sees it (see background/history-search.ts). */
export interface MemoryView {
  scope: SearchScope;
  historyEnabled: boolean;
  /** Scope 'all': the history is still loading; its results merge in as it does. */
  loading: boolean;
  /** Stored images embedded with the current model (searchable in 'all'). */
  indexed: number;
  /** Stored pages whose images were not embedded with the current model (not searched). */
  otherModelPages: number;
  /** Why history results are missing, if they are. */
  error: string | null;
  /** The job re-embedding remembered pages with the current model (last one started), or null. */
  reembed: ReembedView | null;
}

export const REEMBED_STATES = ['running', 'paused', 'done', 'cancelled', 'failed'] as const;
export interface ReembedView {
  modelId: string;
  state: (typeof REEMBED_STATES)[number];
  pagesDone: number;
  pagesTotal: number;
  /** Pictures the model embedded for the job. */
  imagesEmbedded: number;
  /** Pictures whose address no longer gave the bytes remembered (gone, refused, or changed). */
  unreachable: number;
  error: string | null;
}

export interface LabelProbability {
  label: string;
  probability: number;
}

/** Every indexed image of a page under its most probable label (the popup's "Label all"). */
export interface PageClassification {
  setId: string;
  setName: string;
  /** Largest groups first; within a group, most probable first. `preview` as SearchResult's. */
  groups: { label: string; images: { url: string; probability: number; preview?: boolean }[] }[];
  /** Images not labelled because they are not indexed (yet): waiting, or failed. */
  notIndexed: number;
}

/** A label set being embedded (once per model and set): prompts done, of all. */
export interface LabelProgress {
  setId: string;
  name: string;
  modelId: string;
  done: number;
  total: number;
}

/** 'confirm': the model is neither bundled nor stored, and nothing is fetched before the person says yes. */
export type ModelPhase = 'idle' | 'confirm' | 'downloading' | 'loading' | 'ready' | 'error';

/** What the engine host is doing while phase is 'loading' (what it can see of the start-up). */
export type LoadingStep = 'checking' | 'reading-files' | 'starting-sessions' | 'vision-session' | 'text-session' | 'warming-up';

/** A failure as the UI shows it: one short sentence, and the technical part (URL, status) to unfold. */
export interface ModelFailure {
  id: string;
  label: string;
  message: string;
  detail: string;
}

/** A download of a model that is not in use yet (a switch), while the model in use keeps answering. */
export interface SwitchDownload {
  id: string;
  label: string;
  loaded: number;
  total: number | null;
}

export interface ModelStatus {
  id: string;
  label: string;
  /** The fixture model only knows colours: the UI says so plainly. */
  testOnly: boolean;
  phase: ModelPhase;
  backend: Backend | null;
  /** WASM threads of the engine answering (Chrome runs WASM in an offscreen document with threads); null on WebGPU. */
  threads?: number | null;
  /** 0..1 while downloading. */
  progress: number | null;
  /** Bytes of the model's files so far and in all, while downloading (total once known). */
  downloaded: { loaded: number; total: number | null } | null;
  error: string | null;
  /** The technical side of `error` (URL, HTTP status, file), shown folded. */
  errorDetail?: string | null;
  /** Phase 'confirm': about how many bytes the download would fetch (the registry's figure). */
  downloadBytes?: number | null;
  /** Phase 'loading': the step under way, and when it began (ms since the epoch), for a sign of life. */
  step?: LoadingStep | null;
  stepSince?: number | null;
  /** A model being downloaded to switch to; the model above keeps answering meanwhile. */
  switching?: SwitchDownload | null;
  /** The last switch that failed: the model above stayed in use. */
  switchFailure?: ModelFailure | null;
  /** Why WebGPU is not answering when the person asked for it (unavailable, failed to start, failed later); else null. */
  webgpuFailure?: string | null;
}

/**
 * Why an image could not be indexed (see ImageFailure in background/tabs.ts): `model` ones go
 * again once the model is ready, `needs-visible-tab` ones when their tab is shown.
 */
export type FailureReason = 'model' | 'needs-visible-tab' | 'fetch' | 'decode' | 'inference' | 'timeout' | 'unexpected';
export const FAILURE_REASONS: readonly FailureReason[] = ['model', 'needs-visible-tab', 'fetch', 'decode', 'inference', 'timeout', 'unexpected'];

/** What a notice on the page says; the page words it (its `detail`: an error's text, or the site). */
export type NoticeKind = 'no-image' | 'similar-failed' | 'indexing-paused' | 'site-excluded' | 'site-not-listed';
export const NOTICE_KINDS: readonly NoticeKind[] = ['no-image', 'similar-failed', 'indexing-paused', 'site-excluded', 'site-not-listed'];

/** Why a tab cannot be searched at all (the popup words it): a blank page, a browser page, an extension store, a PDF. */
export type UnavailableReason = 'blank' | 'browser-page' | 'store' | 'pdf';
export const UNAVAILABLE_REASONS: readonly UnavailableReason[] = ['blank', 'browser-page', 'store', 'pdf'];

/** What the popup shows for one tab; sent whole on every change (a reconnecting popup needs no replay). */
export interface TabView {
  tabId: number;
  /** The top frame's address (for exports); '' before the page reported. */
  pageUrl: string;
  /** Images, counting identical copies once (see `merged`). */
  found: number;
  /** Images found at another address with the same bytes as one in `found`, shown once (merge setting). */
  merged: number;
  hidden: number;
  indexed: number;
  failed: number;
  pending: number;
  /** Every failure: the address, the typed reason, and the words for people. */
  errors: { url: string; reason: FailureReason; error: string }[];
  /** Images the page shows past what its frames could list (MAX_IMAGES_PER_MESSAGE each): neither found nor indexed. */
  omitted: number;
  /** This page's image embeddings so far: run through the model, or answered from memory / IndexedDB. */
  stats: { embedded: number; fromCache: number };
  model: ModelStatus;
  query: string;
  /**
   * Set while the results rank the page's images by similarity to this image (find similar)
   * instead of by a text query; the query is then empty.
   */
  similarTo: string | null;
  results: SearchResult[];
  /** Set when this tab cannot be searched at all (browser pages, store pages). */
  unavailable: UnavailableReason | null;
  storage: StorageView;
  memory: MemoryView;
}

// ---------------------------------------------------------------- content → background

export type ContentMessage =
  /** The frame's complete current list (replaces what the frame reported before), whole or in parts. */
  | {
      type: 'images-found';
      pageUrl: string;
      images: FoundImage[];
      hidden: number;
      /** Shown images past MAX_IMAGES_PER_MESSAGE, not listed. */
      omitted?: number;
      /**
       * Set when the list comes in several messages of at most REPORT_PART_IMAGES (one big message
       * costs the page a long task to send): part `index` of `count` of the frame's report `scan`.
       */
      part?: ReportPart;
    }
  /** The person pinned (or unpinned) the highlights on the page: they stay when the popup closes. */
  | { type: 'pin-highlights'; pinned: boolean }
  /** The person cleared the highlights on the page (Esc, the bar's close): every frame's go, and stay gone. */
  | { type: 'dismiss-highlights' }
  /** The top frame's navigation bar went to a match another frame shows: reveal it there. */
  | { type: 'reveal-match'; url: string }
  /** A highlight badge was clicked in a child frame: the top frame's bar goes to this rank. */
  | { type: 'nav-to'; rank: number }
  /** The top frame scrolled (or resized): its visible band in document CSS pixels, for the indexing order. */
  | { type: 'viewport'; top: number; height: number };

/** What the content script answers to `context-target`: the image under the last right-click, if any. */
export interface ContextTargetResponse {
  url: string | null;
}

// ---------------------------------------------------------------- popup/options → background (runtime.sendMessage)

export type RequestMessage =
  /** `scope` defaults to 'page'. */
  | { type: 'search'; tabId: number; query: string; scope?: SearchScope }
  /** Rank the tab's images by similarity to one of them (image → image); answered like a search. */
  | { type: 'similar'; tabId: number; url: string; frameId?: number; scope?: SearchScope }
  /** A result from another page: show that page (its tab, or a new one) and the picture on it. */
  | { type: 'open-result'; pageUrl: string; url: string }
  /** Delete a page (or its whole site) from the memory. */
  | { type: 'forget'; what: 'page' | 'site'; pageUrl: string }
  | { type: 'memory-usage' }
  /** Start (or cancel) re-embedding the remembered pages that lack the current model's embeddings. */
  | { type: 'reembed'; action: 'start' | 'cancel' }
  /** Empty one store of the persistent memory (or the private windows' one), or all of it. */
  | { type: 'memory-clear'; store: MemoryStoreName | 'all'; private: boolean }
  | { type: 'memory-export' }
  /** Merge an exported memory file (its text) into the persistent memory. */
  | { type: 'memory-import'; text: string }
  | { type: 'classify'; tabId: number | null; url: string; labels?: string[] }
  /** Every indexed image of the tab under its top label, from the index's embeddings; `setId` absent: the active set. */
  | { type: 'classify-page'; tabId: number; setId?: string }
  /** Embed a label set's labels now (in the background), so its first use is quick. */
  | { type: 'prepare-labels'; setId: string }
  /** Label sets being embedded, for progress lines. */
  | { type: 'label-progress' }
  | { type: 'reveal'; tabId: number; url: string }
  | { type: 'clear-highlights'; tabId: number }
  | { type: 'clear-cache' }
  | { type: 'cache-stats' }
  /** A small JPEG preview of an indexed image, for results the popup cannot load by address. */
  | { type: 'thumbnail'; tabId: number; url: string }
  /** Load the model again after it failed (download or start-up), and re-index images that failed. */
  | { type: 'retry-model' }
  /** The person said yes to downloading this model (the popup's first-run confirmation). */
  | { type: 'model-download'; id: string }
  /** Stop the running model download (first run or switch); received bytes are kept for a resume. */
  | { type: 'model-cancel' }
  /** Switch to this model; `download`: the person confirmed downloading it if it is not stored. */
  | { type: 'model-use'; id: string; download: boolean }
  /** Every variant with its state on this device (options' Models section). */
  | { type: 'model-inventory' }
  /** Free the stored files of a model that is not in use. */
  | { type: 'model-delete'; id: string };

export interface SearchResponse {
  ok: true;
  view: TabView;
}
export interface ClassifyResponse {
  ok: true;
  url: string;
  labels: LabelProbability[];
}
export interface ClassifyPageResponse {
  ok: true;
  classification: PageClassification;
}
export interface LabelProgressResponse {
  ok: true;
  jobs: LabelProgress[];
}
export interface CacheStatsResponse {
  ok: true;
  embeddings: number;
  urls: number;
}
export interface ErrorResponse {
  ok: false;
  error: string;
}
export interface ThumbnailResponse {
  ok: true;
  dataUrl: string;
}
export interface OkResponse {
  ok: true;
}
/** Where a variant stands on this device. */
export type ModelAvailability = 'bundled' | 'stored' | 'partial' | 'absent';
export interface ModelInventoryEntry {
  id: string;
  availability: ModelAvailability;
  /** Bytes the model store holds for it (complete files and partial downloads), measured. */
  diskBytes: number;
}
export interface ModelInventoryResponse {
  ok: true;
  models: ModelInventoryEntry[];
  /** The host's status: the model in use, a download, a failed switch. */
  status: ModelStatus;
  /** The model the settings name (what a reload would load). */
  chosenId: string;
}
export type MemoryStoreName = 'embeddings' | 'urls' | 'queries' | 'pages' | 'thumbnails' | 'labels';
export const MEMORY_STORE_NAMES: readonly MemoryStoreName[] = ['embeddings', 'urls', 'queries', 'pages', 'thumbnails', 'labels'];
export interface MemoryUsage {
  stores: Record<MemoryStoreName, { count: number; bytes: number }>;
  totalBytes: number;
  budgetBytes: number;
}
export interface MemoryUsageResponse {
  ok: true;
  persistent: MemoryUsage;
  /** null when no private window stored anything since the last one closed. */
  private: MemoryUsage | null;
  storage: StorageView;
}
export interface ForgetResponse {
  ok: true;
  removed: { pages: number; urls: number; embeddings: number; thumbnails: number };
}
export interface MemoryExportResponse {
  ok: true;
  /** The memory file (JSON), to be saved as is. */
  text: string;
}
export interface MemoryImportResponse {
  ok: true;
  added: number;
  skipped: number;
}

/** The answer to each request type (when the background succeeds; else an ErrorResponse). */
export interface ResponseMap {
  search: SearchResponse;
  similar: SearchResponse;
  classify: ClassifyResponse;
  'classify-page': ClassifyPageResponse;
  'prepare-labels': OkResponse;
  'label-progress': LabelProgressResponse;
  reveal: OkResponse;
  'clear-highlights': OkResponse;
  'clear-cache': OkResponse;
  'cache-stats': CacheStatsResponse;
  thumbnail: ThumbnailResponse;
  'retry-model': OkResponse;
  'model-download': OkResponse;
  'model-cancel': OkResponse;
  'model-use': OkResponse;
  'model-inventory': ModelInventoryResponse;
  'model-delete': OkResponse;
  'open-result': OkResponse;
  forget: ForgetResponse;
  'memory-usage': MemoryUsageResponse;
  'memory-clear': OkResponse;
  'memory-export': MemoryExportResponse;
  'memory-import': MemoryImportResponse;
  reembed: OkResponse;
}
export type RequestType = RequestMessage['type'];
export type RequestOf<T extends RequestType> = Extract<RequestMessage, { type: T }>;
export type ResponseFor<M extends RequestMessage> = ResponseMap[M['type']];

// ---------------------------------------------------------------- background → content (tabs.sendMessage)

export type PageCommand =
  /** `source`: the image find-similar ranked against, marked as such on the page. */
  | { type: 'highlight'; results: { url: string; rank: number; score: number; relevance: number }[]; source?: string }
  | { type: 'clear-highlights' }
  | { type: 'reveal'; url: string }
  /** The classification card: `pending` while the answer is being computed (labels empty then). */
  /** `error`: the technical detail of a failure (the card words the sentence around it). */
  | { type: 'show-classification'; url: string; labels: LabelProbability[]; error?: string; pending?: boolean }
  /** Which image was under the pointer at the last right-click in this frame (a ContextTargetResponse). */
  | { type: 'context-target' }
  /** A short message near the last right-click, worded by the page: no image there, or find similar failed (with its technical detail). */
  | { type: 'notice'; kind: NoticeKind; detail?: string }
  /** The navigation bar (top frame) goes to the match of this rank. */
  | { type: 'nav-to'; rank: number }
  | { type: 'rescan' }
  /**
   * The frame's pixels for one of its images, answered with a PageImageResponse: for images the
   * background cannot fetch or decode itself (blob:, lens-local:, SVG, failed fetches). `svg` is
   * SVG markup the background fetched, to be drawn by the page (workers cannot decode SVG).
   */
  | { type: 'read-image'; url: string; svg?: string }
  /** Hide the overlay and say where the image is on screen, for a screenshot crop (CaptureResponse). */
  | { type: 'prepare-capture'; url: string };

/** Bytes as a data: URL: Chrome serialises messages as JSON, so binary data cannot travel as is. */
export type PageImageResponse =
  | { ok: true; dataUrl: string }
  /** `capturable`: the pixels are unreadable in the page but fully on screen in the top frame. */
  | { ok: false; error: string; capturable: boolean };

/** Viewport rectangle in CSS pixels, and the factor to device pixels (screenshots are in device pixels). */
export interface CaptureRect {
  x: number;
  y: number;
  width: number;
  height: number;
  devicePixelRatio: number;
}
export type CaptureResponse = { ok: true; rect: CaptureRect } | { ok: false; error: string };

// ---------------------------------------------------------------- popup ⇄ background (runtime.Port)

export const POPUP_PORT = 'popup';
export type PopupPortMessage = { type: 'subscribe'; tabId: number };
export type BackgroundPortMessage = { type: 'view'; view: TabView };

// ---------------------------------------------------------------- bounds (message-validators.ts checks them)

/** A frame lists at most this many images (visible first, then down the page) and counts the rest. */
export const MAX_IMAGES_PER_MESSAGE = 10_000;
/** Images per message of a report sent in parts. */
export const REPORT_PART_IMAGES = 500;

export interface ReportPart {
  scan: number;
  index: number;
  count: number;
}
/** Scheme of names for page-only pixels (see FoundImage.url). */
export const LOCAL_IMAGE_SCHEME = 'lens-local:';
/** Largest image a frame may send as a data: URL (base64: 4 characters per 3 bytes). */
export const MAX_PAGE_IMAGE_CHARS = 32 * 1024 * 1024;
/** An exported memory file sent for import (runtime messages carry it as text). */
export const MAX_MEMORY_FILE_CHARS = 256 * 1024 * 1024;
/** Labels for "Classify image": at most this many, each at most MAX_LABEL_LENGTH characters (the options page says so). */
export const MAX_LABELS = 1_000;
export const MAX_LABEL_LENGTH = 200;
