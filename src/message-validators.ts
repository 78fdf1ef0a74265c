// Validators for every message that crosses a context boundary (see messages.ts for the protocol).
// Each listener runs the matching parser before acting: content scripts live in pages we do not
// trust, and a popup may be stale after an update. A parser returns the message, or null.
import {
  FAILURE_REASONS,
  UNAVAILABLE_REASONS,
  NOTICE_KINDS,
  MAX_IMAGES_PER_MESSAGE,
  MAX_LABELS,
  MAX_LABEL_LENGTH,
  MAX_MEMORY_FILE_CHARS,
  MAX_PAGE_IMAGE_CHARS,
  MEMORY_STORE_NAMES,
  REEMBED_STATES,
  REPORT_PART_IMAGES,
  SEARCH_SCOPES,
  type BackgroundPortMessage,
  type CaptureRect,
  type CaptureResponse,
  type ContentMessage,
  type ContextTargetResponse,
  type ErrorResponse,
  type FailureReason,
  type UnavailableReason,
  type NoticeKind,
  type FoundImage,
  type MemoryStoreName,
  type ReembedView,
  type PageCommand,
  type PageImageResponse,
  type PopupPortMessage,
  type RequestMessage,
  type SearchResult,
  type SearchScope,
} from './messages';
import { isReferrerPolicy } from './referrer-policy';

const MAX_URL = 16_384; // long enough for reasonable data: URLs of thumbnails, short enough to bound memory
const MAX_QUERY = 500;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isTabId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isSetId = (v: unknown): v is string => isStr(v, 100) && /^[\w-]+$/.test(v);
const isModelId = (v: unknown): v is string => isStr(v, 100) && /^[\w.-]+$/.test(v);
const isScope = (v: unknown): v is SearchScope | undefined => v === undefined || SEARCH_SCOPES.includes(v as SearchScope);
const isPageUrl = (v: unknown): v is string => isStr(v, MAX_URL) && /^https?:\/\//i.test(v);
const isRank = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

export function isImageUrl(v: unknown): v is string {
  if (!isStr(v, MAX_URL) || v.length === 0) return false;
  return /^(https?:|data:image\/|blob:|lens-local:)/i.test(v);
}

const KINDS = new Set<FoundImage['kind']>(['img', 'picture', 'background', 'svg', 'canvas', 'poster', 'input']);

function isFoundImage(v: unknown): v is FoundImage {
  return (
    isObj(v) &&
    isImageUrl(v.url) &&
    KINDS.has(v.kind as FoundImage['kind']) &&
    isNum(v.width) &&
    isNum(v.height) &&
    isNum(v.top) &&
    typeof v.visible === 'boolean' &&
    isStr(v.alt, 2_000) &&
    (v.referrerPolicy === undefined || isReferrerPolicy(v.referrerPolicy))
  );
}

/** A part of a report in parts: index within count, count no more than a whole report needs. */
function isReportPart(v: unknown, images: number): boolean {
  if (!isObj(v)) return false;
  const { scan, index, count } = v;
  const int = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  if (!int(scan) || !int(index) || !int(count)) return false;
  return index < count && count <= Math.ceil(MAX_IMAGES_PER_MESSAGE / REPORT_PART_IMAGES) && images <= REPORT_PART_IMAGES;
}

export function parseContentMessage(v: unknown): ContentMessage | null {
  if (!isObj(v)) return null;
  if (v.type === 'images-found') {
    if (!isStr(v.pageUrl, MAX_URL) || !isNum(v.hidden)) return null;
    if (v.omitted !== undefined && !(Number.isInteger(v.omitted) && (v.omitted as number) >= 0)) return null;
    if (!Array.isArray(v.images) || v.images.length > MAX_IMAGES_PER_MESSAGE) return null;
    if (!v.images.every(isFoundImage)) return null;
    if (v.part !== undefined && !isReportPart(v.part, v.images.length)) return null;
    return v as unknown as ContentMessage;
  }
  switch (v.type) {
    case 'pin-highlights':
      return typeof v.pinned === 'boolean' ? { type: v.type, pinned: v.pinned } : null;
    case 'dismiss-highlights':
      return { type: v.type };
    case 'reveal-match':
      return isImageUrl(v.url) ? { type: v.type, url: v.url } : null;
    case 'nav-to':
      return isRank(v.rank) ? { type: v.type, rank: v.rank } : null;
    case 'viewport':
      return isNum(v.top) && isNum(v.height) && v.height >= 0 ? { type: v.type, top: v.top, height: v.height } : null;
    default:
      return null;
  }
}

export function parseContextTargetResponse(v: unknown): ContextTargetResponse | null {
  if (!isObj(v)) return null;
  return v.url === null || isImageUrl(v.url) ? { url: v.url } : null;
}

export function parseRequestMessage(v: unknown): RequestMessage | null {
  if (!isObj(v)) return null;
  switch (v.type) {
    case 'search':
      return isTabId(v.tabId) && isStr(v.query, MAX_QUERY) && isScope(v.scope) ? (v as unknown as RequestMessage) : null;
    case 'similar':
      return isTabId(v.tabId) && isImageUrl(v.url) && (v.frameId === undefined || isTabId(v.frameId)) && isScope(v.scope)
        ? (v as unknown as RequestMessage)
        : null;
    case 'open-result':
      return isPageUrl(v.pageUrl) && isImageUrl(v.url) ? { type: v.type, pageUrl: v.pageUrl, url: v.url } : null;
    case 'forget':
      return (v.what === 'page' || v.what === 'site') && isPageUrl(v.pageUrl) ? { type: v.type, what: v.what, pageUrl: v.pageUrl } : null;
    case 'memory-clear':
      return (v.store === 'all' || MEMORY_STORE_NAMES.includes(v.store as MemoryStoreName)) && typeof v.private === 'boolean'
        ? { type: v.type, store: v.store as MemoryStoreName | 'all', private: v.private }
        : null;
    case 'memory-import':
      return isStr(v.text, MAX_MEMORY_FILE_CHARS) ? { type: v.type, text: v.text } : null;
    case 'reembed':
      return v.action === 'start' || v.action === 'cancel' ? { type: v.type, action: v.action } : null;
    case 'memory-usage':
    case 'memory-export':
      return { type: v.type };
    case 'classify': {
      const labelsOk =
        v.labels === undefined ||
        (Array.isArray(v.labels) && v.labels.length > 0 && v.labels.length <= MAX_LABELS && v.labels.every((l) => isStr(l, MAX_LABEL_LENGTH)));
      return (v.tabId === null || isTabId(v.tabId)) && isImageUrl(v.url) && labelsOk ? (v as unknown as RequestMessage) : null;
    }
    case 'classify-page':
      return isTabId(v.tabId) && (v.setId === undefined || isSetId(v.setId)) ? { type: v.type, tabId: v.tabId, setId: v.setId } : null;
    case 'prepare-labels':
      return isSetId(v.setId) ? { type: v.type, setId: v.setId } : null;
    case 'label-progress':
      return { type: v.type };
    case 'reveal':
    case 'thumbnail':
      return isTabId(v.tabId) && isImageUrl(v.url) ? (v as unknown as RequestMessage) : null;
    case 'clear-highlights':
      return isTabId(v.tabId) ? (v as unknown as RequestMessage) : null;
    case 'clear-cache':
    case 'cache-stats':
    case 'retry-model':
    case 'model-cancel':
    case 'model-inventory':
      return { type: v.type };
    case 'model-download':
    case 'model-delete':
      return isModelId(v.id) ? { type: v.type, id: v.id } : null;
    case 'model-use':
      return isModelId(v.id) && typeof v.download === 'boolean' ? { type: v.type, id: v.id, download: v.download } : null;
    default:
      return null;
  }
}

export function parsePageCommand(v: unknown): PageCommand | null {
  if (!isObj(v)) return null;
  switch (v.type) {
    case 'highlight':
      return Array.isArray(v.results) &&
        v.results.every((r) => isObj(r) && isImageUrl(r.url) && isNum(r.rank) && isNum(r.score) && isNum(r.relevance) && r.relevance >= 0 && r.relevance <= 1) &&
        (v.source === undefined || isImageUrl(v.source))
        ? (v as unknown as PageCommand)
        : null;
    case 'clear-highlights':
    case 'rescan':
    case 'context-target':
      return { type: v.type };
    case 'notice':
      if (!NOTICE_KINDS.includes(v.kind as NoticeKind) || (v.detail !== undefined && !isStr(v.detail, 1_000))) return null;
      return { type: v.type, kind: v.kind as NoticeKind, ...(v.detail !== undefined && { detail: v.detail as string }) };
    case 'nav-to':
      return isRank(v.rank) ? { type: v.type, rank: v.rank } : null;
    case 'reveal':
    case 'prepare-capture':
      return isImageUrl(v.url) ? (v as unknown as PageCommand) : null;
    case 'read-image':
      return isImageUrl(v.url) && (v.svg === undefined || isStr(v.svg, MAX_PAGE_IMAGE_CHARS)) ? (v as unknown as PageCommand) : null;
    case 'show-classification':
      return isImageUrl(v.url) &&
        Array.isArray(v.labels) &&
        v.labels.every((l) => isObj(l) && isStr(l.label, 200) && isNum(l.probability)) &&
        (v.error === undefined || isStr(v.error, 1_000)) &&
        (v.pending === undefined || typeof v.pending === 'boolean')
        ? (v as unknown as PageCommand)
        : null;
    default:
      return null;
  }
}

/** A frame's answer to read-image; only raster image data: URLs within the size cap pass. */
export function parsePageImageResponse(v: unknown): PageImageResponse | null {
  if (!isObj(v)) return null;
  if (v.ok === true) {
    return isStr(v.dataUrl, MAX_PAGE_IMAGE_CHARS) && /^data:image\/(png|jpeg|gif|webp|avif|bmp);base64,/i.test(v.dataUrl)
      ? { ok: true, dataUrl: v.dataUrl }
      : null;
  }
  return v.ok === false && isStr(v.error, 1_000) && typeof v.capturable === 'boolean'
    ? { ok: false, error: v.error, capturable: v.capturable }
    : null;
}

export function parseCaptureResponse(v: unknown): CaptureResponse | null {
  if (!isObj(v)) return null;
  if (v.ok === false) return isStr(v.error, 1_000) ? { ok: false, error: v.error } : null;
  const r = v.rect;
  if (v.ok !== true || !isObj(r)) return null;
  const { x, y, width, height, devicePixelRatio } = r;
  if (![x, y, width, height, devicePixelRatio].every(isNum)) return null;
  if ((width as number) <= 0 || (height as number) <= 0 || (devicePixelRatio as number) <= 0 || (devicePixelRatio as number) > 16) return null;
  return { ok: true, rect: { x, y, width, height, devicePixelRatio } as CaptureRect };
}

export function parsePopupPortMessage(v: unknown): PopupPortMessage | null {
  return isObj(v) && v.type === 'subscribe' && isTabId(v.tabId) ? { type: 'subscribe', tabId: v.tabId } : null;
}

export function parseBackgroundPortMessage(v: unknown): BackgroundPortMessage | null {
  if (!isObj(v) || v.type !== 'view' || !isObj(v.view) || !isTabId(v.view.tabId)) return null;
  const { stats, errors, similarTo, results, storage, memory, omitted, unavailable } = v.view;
  if (unavailable !== null && !UNAVAILABLE_REASONS.includes(unavailable as UnavailableReason)) return null;
  if (!Number.isInteger(omitted) || (omitted as number) < 0) return null;
  if (!isObj(stats) || !isNum(stats.embedded) || !isNum(stats.fromCache)) return null;
  if (!Array.isArray(results) || !results.every(isSearchResult)) return null;
  if (!isObj(storage) || typeof storage.persistent !== 'boolean' || !isNum(storage.errors)) return null;
  if (storage.error !== null && !(isObj(storage.error) && isStr(storage.error.message, 2_000))) return null;
  if (!isObj(memory) || !isScope(memory.scope) || !isNum(memory.indexed) || !isNum(memory.otherModelPages)) return null;
  if (memory.reembed !== null && !isReembedView(memory.reembed)) return null;
  if (similarTo !== null && !isImageUrl(similarTo)) return null;
  const errorsOk =
    Array.isArray(errors) &&
    errors.every((e) => isObj(e) && isStr(e.url, MAX_URL) && FAILURE_REASONS.includes(e.reason as FailureReason) && isStr(e.error, 2_000));
  return errorsOk ? (v as unknown as BackgroundPortMessage) : null;
}

function isReembedView(r: unknown): r is ReembedView {
  return (
    isObj(r) &&
    isStr(r.modelId, 200) &&
    REEMBED_STATES.includes(r.state as ReembedView['state']) &&
    [r.pagesDone, r.pagesTotal, r.imagesEmbedded, r.unreachable].every(isNum) &&
    (r.error === null || isStr(r.error, 2_000))
  );
}

function isSearchResult(r: unknown): r is SearchResult {
  if (!isObj(r) || !isImageUrl(r.url) || !isNum(r.score) || !isNum(r.rank) || !isStr(r.alt, 2_000)) return false;
  if (r.pageUrl === undefined) return true;
  const faviconOk = r.favicon === undefined || r.favicon === null || (isStr(r.favicon, MAX_URL) && /^(https?:|data:image\/)/i.test(r.favicon));
  return isPageUrl(r.pageUrl) && isStr(r.pageTitle, 2_000) && faviconOk;
}

/**
 * The envelope of the background's answer to a request: `{ ok: true, … }` or
 * `{ ok: false, error }`. The rest of a successful answer is the background's own (trusted) data.
 */
export function parseResponse(v: unknown): { ok: true } | ErrorResponse | null {
  if (!isObj(v)) return null;
  if (v.ok === true) return v as { ok: true };
  return v.ok === false && isStr(v.error, 10_000) ? { ok: false, error: v.error } : null;
}
