// Which settings follow the person to their other browsers through storage.sync, and how.
//
// Synced (preferences, true on any device): the image filters, the popup size, background
// indexing, the site lists and mode, and the history's excluded sites.
// Not synced (belong to this device or would cost it): the model, its download address and the
// backend (a model choice means a download of tens to hundreds of MB on every device; a GPU on one
// machine says nothing of another), the pause switch (pausing a laptop must not pause the
// desktop), the visual memory's opt-in, budget and retention (recording and disk space are
// consented to per device), and the old single label list (label sets stay in storage.local: one
// set of 1,000 labels alone exceeds storage.sync's 8 KB per item).
//
// storage.local keeps every setting and is what every context reads; the sync copy is a mirror.
// Each write stamps the sync copy; the stamp last applied is remembered locally, so a copy with
// another stamp came from another device (or arrived while this one was off) and is pulled in,
// while settings written to storage.local directly are never overwritten by an older sync copy.
import type { Settings } from './settings';

/** storage.sync's QUOTA_BYTES_PER_ITEM (Chrome and Firefox): key plus JSON value, in bytes. */
export const SYNC_ITEM_BYTES = 8192;

export const SYNCED_PREFS = ['minImageSize', 'skipTrackingPixels', 'mergeDuplicates', 'popupSize', 'indexInBackground'] as const;
/** Lists, in an item of their own: long lists may not fit in one, and then stay on this device. */
export const SYNCED_SITES = ['siteMode', 'excludedSites', 'onlySites', 'historyExcludedSites'] as const;

const PREFS_KEY = 'prefs';
const SITES_KEY = 'prefs.sites';
/** In storage.local: the stamp of the sync copy this device has applied or written. */
const STAMP_KEY = 'settingsSyncedAt';
/** In storage.local: how the last sync went, for the options page. */
export const STATUS_KEY = 'settingsSyncStatus';

export interface SyncStatus {
  /** 'synced': both items written or read; 'partial': the site lists did not fit; 'local': no sync. */
  state: 'synced' | 'partial' | 'local';
  /** Why not everything synced (English technical detail: the options page words it). */
  detail: string | null;
  at: number;
}

/** The part of a storage area used here (fakes in unit tests). */
export interface Area {
  get(keys: string | string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

export interface Areas {
  local: Area;
  /** Undefined where the browser has no storage.sync. */
  sync: Area | undefined;
}

const itemBytes = (key: string, value: unknown) => new TextEncoder().encode(key + JSON.stringify(value)).length;

function pick<K extends keyof Settings>(settings: Settings, keys: readonly K[]): Pick<Settings, K> {
  return Object.fromEntries(keys.map((k) => [k, settings[k]])) as Pick<Settings, K>;
}

/** The sync items for these settings; the site lists are left out (with why) when their item is over quota. */
export function syncItems(settings: Settings, stamp: number): { items: Record<string, unknown>; tooBig: string | null } {
  const items: Record<string, unknown> = { [PREFS_KEY]: { ...pick(settings, SYNCED_PREFS), stamp } };
  const sites = pick(settings, SYNCED_SITES);
  const bytes = itemBytes(SITES_KEY, sites);
  if (bytes <= SYNC_ITEM_BYTES) {
    items[SITES_KEY] = sites;
    return { items, tooBig: null };
  }
  return { items, tooBig: `site lists take ${bytes} bytes, over storage.sync's ${SYNC_ITEM_BYTES} per item` };
}

async function record(local: Area, status: Omit<SyncStatus, 'at'>): Promise<void> {
  await local.set({ [STATUS_KEY]: { ...status, at: Date.now() } }).catch(() => undefined);
}

/** Writes the synced part of `settings` to storage.sync; a failure leaves them on this device and says why. */
export async function pushToSync(settings: Settings, { local, sync }: Areas, now = Date.now()): Promise<SyncStatus['state']> {
  if (!sync) {
    await record(local, { state: 'local', detail: 'this browser has no storage.sync' });
    return 'local';
  }
  const { items, tooBig } = syncItems(settings, now);
  const before = (await local.get(STAMP_KEY))[STAMP_KEY];
  try {
    // The stamp first: the change event of our own write then finds nothing new to pull.
    await local.set({ [STAMP_KEY]: now });
    // A list too long to sync must not leave an older one there for the other devices to pull.
    if (tooBig) await sync.remove(SITES_KEY);
    await sync.set(items);
  } catch (error) {
    // The sync copy is still the one this device had seen: it must not come back as news.
    await local.set({ [STAMP_KEY]: before }).catch(() => undefined);
    await record(local, { state: 'local', detail: error instanceof Error ? error.message : String(error) });
    return 'local';
  }
  await record(local, { state: tooBig ? 'partial' : 'synced', detail: tooBig });
  return tooBig ? 'partial' : 'synced';
}

/**
 * Brings this device and the sync copy together (background start, and every storage.sync change):
 * no copy yet → this device's settings become it (existing users keep theirs); a copy with a stamp
 * this device has not seen → its preferences replace the local ones. Returns the settings written
 * locally, or null when nothing changed here.
 */
export async function reconcile(areas: Areas, sanitize: (raw: unknown) => Settings): Promise<Settings | null> {
  const { local, sync } = areas;
  const here = await local.get(['settings', STAMP_KEY]);
  const current = sanitize(here.settings);
  if (!sync) {
    await record(local, { state: 'local', detail: 'this browser has no storage.sync' });
    return null;
  }
  let remote: Record<string, unknown>;
  try {
    remote = await sync.get([PREFS_KEY, SITES_KEY]);
  } catch (error) {
    await record(local, { state: 'local', detail: error instanceof Error ? error.message : String(error) });
    return null;
  }
  const prefs = remote[PREFS_KEY] as Record<string, unknown> | undefined;
  if (!prefs || typeof prefs !== 'object') {
    await pushToSync(current, areas);
    return null;
  }
  if (prefs.stamp === here[STAMP_KEY]) return null;
  const sites = remote[SITES_KEY];
  const next = sanitize({ ...current, ...pickKnown(prefs, SYNCED_PREFS), ...(sites && typeof sites === 'object' ? pickKnown(sites as Record<string, unknown>, SYNCED_SITES) : {}) });
  await local.set({ settings: next, [STAMP_KEY]: prefs.stamp });
  await record(local, { state: sites ? 'synced' : 'partial', detail: sites ? null : 'the site lists were too long to sync from the other device' });
  return next;
}

/** Only the keys this item may carry: a copy written by another version holds nothing else here. */
function pickKnown(raw: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in raw).map((k) => [k, raw[k]]));
}

/** How the last sync went, if it ever ran. */
export async function loadSyncStatus(local: Area): Promise<SyncStatus | null> {
  const raw = (await local.get(STATUS_KEY))[STATUS_KEY] as Partial<SyncStatus> | undefined;
  if (!raw || (raw.state !== 'synced' && raw.state !== 'partial' && raw.state !== 'local')) return null;
  return { state: raw.state, detail: typeof raw.detail === 'string' ? raw.detail : null, at: typeof raw.at === 'number' ? raw.at : 0 };
}
