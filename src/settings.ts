// User settings. Every context reads this device's copy in storage.local; the preferences among
// them also go to storage.sync, where the browser has it, and come back from the person's other
// devices (see settings-sync.ts for which ones and why).
import browser from 'webextension-polyfill';
import { normalizeSites, type SiteMode } from './site-rules';
import { pushToSync } from './settings-sync';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm';
/** The popup's own size: compact fits small screens, roomy shows more results per row. */
export type PopupSize = 'compact' | 'roomy';

export interface Settings {
  modelId: string;
  backend: BackendPreference;
  /** Labels for "Classify image"; empty means the model's default list. */
  labels: string[];
  /** Images rendered smaller than this on both sides are skipped (icons, spacers, tracking pixels). */
  minImageSize: number;
  /** Images of at most 2×2 pixels (analytics beacons, spacers) are skipped whatever their declared size. */
  skipTrackingPixels: boolean;
  /**
   * Different addresses with identical bytes (the same picture from two CDNs, cache-busting
   * query strings) count as one image and one result; every copy on the page lights up.
   */
  mergeDuplicates: boolean;
  /** Where models are downloaded from (Hugging Face layout). */
  modelBaseUrl: string;
  popupSize: PopupSize;
  // ---- visual memory (see background/memory.ts)
  /** Opt-in: remember the pages whose images were indexed (title, address, thumbnails) for "Everything seen". */
  historyEnabled: boolean;
  /** Sites (hostnames; subdomains included) never recorded in the history. */
  historyExcludedSites: string[];
  /** Byte budget of the stored memory, in MB. */
  memoryBudgetMB: number;
  /** Image address → content hash records older than this are dropped, in days. */
  urlRetentionDays: number;
  /**
   * Index every page as it is visited. Off by default: a page is indexed when the person asks
   * (opens the popup, uses the page's menu or the shortcut), so browsing alone fetches no image
   * and downloads no model.
   */
  indexInBackground: boolean;
  /** No new image is fetched or embedded anywhere while set; what is indexed stays searchable. */
  indexingPaused: boolean;
  /** 'only': index the sites of `onlySites` and no other; 'all': every site but the excluded ones. */
  siteMode: SiteMode;
  /** Sites (hostnames; subdomains included) whose images are never fetched or indexed. */
  excludedSites: string[];
  /** The sites indexed in the 'only' mode. */
  onlySites: string[];
}

export const DEFAULT_SETTINGS: Settings = {
  modelId: '',
  backend: 'auto',
  labels: [],
  minImageSize: 48,
  skipTrackingPixels: true,
  mergeDuplicates: true,
  modelBaseUrl: 'https://huggingface.co',
  popupSize: 'compact',
  historyEnabled: false,
  historyExcludedSites: [],
  memoryBudgetMB: 500,
  urlRetentionDays: 30,
  indexInBackground: false,
  indexingPaused: false,
  siteMode: 'all',
  excludedSites: [],
  onlySites: [],
};

export async function loadSettings(): Promise<Settings> {
  const stored = await browser.storage.local.get('settings');
  return sanitizeSettings(stored.settings);
}

export async function saveSettings(patch: Partial<Settings>): Promise<Settings> {
  const next = sanitizeSettings({ ...(await loadSettings()), ...patch });
  await browser.storage.local.set({ settings: next });
  // This device has the settings now; syncing them is a bonus whose failure settings-sync records.
  await pushToSync(next, { local: browser.storage.local, sync: syncArea() });
  return next;
}

/** Every setting back to its default (label sets, caches and the history are not settings: they stay). */
export function resetSettings(): Promise<Settings> {
  return saveSettings(DEFAULT_SETTINGS);
}

/** storage.sync, or undefined where the browser has none (it then stays on this device). */
export function syncArea(): typeof browser.storage.sync | undefined {
  try {
    return browser.storage.sync;
  } catch {
    return undefined;
  }
}

export function onSettingsChanged(listener: (settings: Settings) => void): void {
  browser.storage.onChanged.addListener((changes, area) => {
    if (area === 'local' && changes.settings) listener(sanitizeSettings(changes.settings.newValue));
  });
}

/** Storage can hold anything an older version wrote: take only well-formed values. */
export function sanitizeSettings(raw: unknown): Settings {
  const s = { ...DEFAULT_SETTINGS };
  if (typeof raw !== 'object' || raw === null) return s;
  const r = raw as Record<string, unknown>;
  if (typeof r.modelId === 'string') s.modelId = r.modelId;
  if (r.backend === 'auto' || r.backend === 'webgpu' || r.backend === 'wasm') s.backend = r.backend;
  if (Array.isArray(r.labels)) {
    s.labels = r.labels.filter((l): l is string => typeof l === 'string').map((l) => l.trim()).filter(Boolean).slice(0, 1000);
  }
  if (typeof r.minImageSize === 'number' && r.minImageSize >= 0 && r.minImageSize <= 2000) s.minImageSize = Math.round(r.minImageSize);
  if (typeof r.skipTrackingPixels === 'boolean') s.skipTrackingPixels = r.skipTrackingPixels;
  if (typeof r.mergeDuplicates === 'boolean') s.mergeDuplicates = r.mergeDuplicates;
  if (typeof r.modelBaseUrl === 'string' && /^https?:\/\//.test(r.modelBaseUrl)) s.modelBaseUrl = r.modelBaseUrl.replace(/\/+$/, '');
  if (r.popupSize === 'compact' || r.popupSize === 'roomy') s.popupSize = r.popupSize;
  if (typeof r.historyEnabled === 'boolean') s.historyEnabled = r.historyEnabled;
  if (Array.isArray(r.historyExcludedSites)) s.historyExcludedSites = normalizeSites(r.historyExcludedSites);
  if (typeof r.memoryBudgetMB === 'number' && r.memoryBudgetMB >= 0.001 && r.memoryBudgetMB <= 100_000) s.memoryBudgetMB = r.memoryBudgetMB;
  if (typeof r.urlRetentionDays === 'number' && r.urlRetentionDays >= 0 && r.urlRetentionDays <= 3650) s.urlRetentionDays = r.urlRetentionDays;
  if (typeof r.indexInBackground === 'boolean') s.indexInBackground = r.indexInBackground;
  if (typeof r.indexingPaused === 'boolean') s.indexingPaused = r.indexingPaused;
  if (r.siteMode === 'all' || r.siteMode === 'only') s.siteMode = r.siteMode;
  if (Array.isArray(r.excludedSites)) s.excludedSites = normalizeSites(r.excludedSites);
  if (Array.isArray(r.onlySites)) s.onlySites = normalizeSites(r.onlySites);
  return s;
}
