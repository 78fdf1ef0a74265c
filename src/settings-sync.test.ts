import { describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: {} }));
const { DEFAULT_SETTINGS, sanitizeSettings } = await import('./settings');
const { loadSyncStatus, pushToSync, reconcile, SYNC_ITEM_BYTES, syncItems } = await import('./settings-sync');
type Area = import('./settings-sync').Area;

/** A storage area in memory; `failWith` makes every call reject, like storage.sync turned off. */
class FakeArea implements Area {
  data: Record<string, unknown> = {};
  failWith: string | null = null;
  async get(keys: string | string[]) {
    if (this.failWith) throw new Error(this.failWith);
    return Object.fromEntries((Array.isArray(keys) ? keys : [keys]).filter((k) => k in this.data).map((k) => [k, structuredClone(this.data[k])]));
  }
  async set(items: Record<string, unknown>) {
    if (this.failWith) throw new Error(this.failWith);
    for (const [key, value] of Object.entries(items)) {
      if (this.quota && new TextEncoder().encode(key + JSON.stringify(value)).length > this.quota) throw new Error(`QUOTA_BYTES_PER_ITEM quota exceeded`);
      this.data[key] = structuredClone(value);
    }
  }
  async remove(keys: string | string[]) {
    if (this.failWith) throw new Error(this.failWith);
    for (const key of Array.isArray(keys) ? keys : [keys]) delete this.data[key];
  }
  constructor(private readonly quota = 0) {}
}

const device = () => ({ local: new FakeArea(), sync: new FakeArea(SYNC_ITEM_BYTES) });
const settingsOf = (area: FakeArea) => sanitizeSettings(area.data.settings);

describe('settings sync', () => {
  it('an existing user keeps their settings: the first run copies them to sync, new fields get defaults', async () => {
    const { local, sync } = device();
    // Settings as an earlier version wrote them: no site or pause fields.
    local.data.settings = { modelId: 'mobileclip-s1', minImageSize: 100, popupSize: 'roomy', indexInBackground: true, historyExcludedSites: ['bank.test'] };
    expect(await reconcile({ local, sync }, sanitizeSettings)).toBeNull();
    const mine = settingsOf(local);
    expect(mine).toMatchObject({ modelId: 'mobileclip-s1', minImageSize: 100, popupSize: 'roomy', indexInBackground: true, indexingPaused: false, siteMode: 'all', excludedSites: [] });
    expect(sync.data.prefs).toMatchObject({ minImageSize: 100, popupSize: 'roomy', indexInBackground: true });
    // Device-bound settings stay off the sync copy.
    expect(JSON.stringify(sync.data)).not.toContain('mobileclip-s1');
    expect(sync.data['prefs.sites']).toEqual({ siteMode: 'all', excludedSites: [], onlySites: [], historyExcludedSites: ['bank.test'] });
    expect((await loadSyncStatus(local))?.state).toBe('synced');
  });

  it("another device's preferences replace the synced ones here and leave the rest", async () => {
    const a = device();
    const b = { local: new FakeArea(), sync: a.sync };
    b.local.data.settings = { ...DEFAULT_SETTINGS, modelId: 'mobileclip-b', backend: 'wasm', indexingPaused: true };
    await pushToSync({ ...DEFAULT_SETTINGS, excludedSites: ['ads.test'], minImageSize: 64, modelId: 'mobileclip-a' }, a, 1000);
    const pulled = await reconcile(b, sanitizeSettings);
    expect(pulled).toMatchObject({ excludedSites: ['ads.test'], minImageSize: 64, modelId: 'mobileclip-b', backend: 'wasm', indexingPaused: true });
    expect(settingsOf(b.local)).toEqual(pulled);
    // Seen once: the same copy is not applied again (a later local edit is not overwritten by it).
    b.local.data.settings = { ...settingsOf(b.local), minImageSize: 10 };
    expect(await reconcile(b, sanitizeSettings)).toBeNull();
    expect(settingsOf(b.local).minImageSize).toBe(10);
  });

  it('our own write is not pulled back in as news', async () => {
    const d = device();
    d.local.data.settings = { ...DEFAULT_SETTINGS, minImageSize: 5 };
    await pushToSync(settingsOf(d.local), d, 2000);
    expect(await reconcile(d, sanitizeSettings)).toBeNull();
  });

  it('site lists too long for one sync item stay on this device; the rest syncs; an older list is removed', async () => {
    const d = device();
    await pushToSync({ ...DEFAULT_SETTINGS, excludedSites: ['old.test'] }, d, 1);
    expect(d.sync.data['prefs.sites']).toBeDefined();
    const long = Array.from({ length: 600 }, (_, i) => `site-number-${i}.example.test`);
    expect(syncItems({ ...DEFAULT_SETTINGS, excludedSites: long }, 2).tooBig).toMatch(/over storage.sync's 8192 per item/);
    expect(await pushToSync({ ...DEFAULT_SETTINGS, excludedSites: long, popupSize: 'roomy' }, d, 2)).toBe('partial');
    expect(d.sync.data['prefs.sites']).toBeUndefined();
    expect(d.sync.data.prefs).toMatchObject({ popupSize: 'roomy' });
    expect(await loadSyncStatus(d.local)).toMatchObject({ state: 'partial' });
    // A device pulling that copy keeps its own lists.
    const other = { local: new FakeArea(), sync: d.sync };
    other.local.data.settings = { ...DEFAULT_SETTINGS, excludedSites: ['mine.test'] };
    expect(await reconcile(other, sanitizeSettings)).toMatchObject({ excludedSites: ['mine.test'], popupSize: 'roomy' });
  });

  it('without storage.sync, or when it fails, settings stay local and the status says why', async () => {
    const local = new FakeArea();
    local.data.settings = { ...DEFAULT_SETTINGS, minImageSize: 7 };
    expect(await pushToSync(settingsOf(local), { local, sync: undefined })).toBe('local');
    expect(await loadSyncStatus(local)).toMatchObject({ state: 'local', detail: 'this browser has no storage.sync' });
    const broken = new FakeArea();
    broken.failWith = 'storage.sync is disabled';
    expect(await reconcile({ local, sync: broken }, sanitizeSettings)).toBeNull();
    expect(await pushToSync(settingsOf(local), { local, sync: broken })).toBe('local');
    expect(await loadSyncStatus(local)).toMatchObject({ state: 'local', detail: 'storage.sync is disabled' });
    expect(settingsOf(local).minImageSize).toBe(7);
  });

  it('a failed write does not make the older sync copy look new (it would overwrite the change)', async () => {
    const d = device();
    d.local.data.settings = { ...DEFAULT_SETTINGS, minImageSize: 20 };
    await pushToSync(settingsOf(d.local), d, 1);
    d.local.data.settings = { ...DEFAULT_SETTINGS, minImageSize: 30 };
    d.sync.failWith = 'MAX_WRITE_OPERATIONS_PER_MINUTE quota exceeded';
    expect(await pushToSync(settingsOf(d.local), d, 2)).toBe('local');
    d.sync.failWith = null;
    expect(await reconcile(d, sanitizeSettings)).toBeNull();
    expect(settingsOf(d.local).minImageSize).toBe(30);
  });

  it('a sync copy from another version carries only known preferences, sanitised', async () => {
    const d = device();
    d.sync.data.prefs = { stamp: 5, minImageSize: -3, popupSize: 'roomy', modelId: 'injected', indexingPaused: true };
    d.sync.data['prefs.sites'] = { excludedSites: ['HTTPS://Ads.Test/x', 7], backend: 'webgpu' };
    const next = await reconcile(d, sanitizeSettings);
    expect(next).toMatchObject({ minImageSize: DEFAULT_SETTINGS.minImageSize, popupSize: 'roomy', modelId: '', indexingPaused: false, excludedSites: ['ads.test'], backend: 'auto' });
  });
});
