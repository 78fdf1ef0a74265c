import { describe, expect, it, vi } from 'vitest';

// No storage.session: the fallback to memory is what the default area gives.
vi.mock('webextension-polyfill', () => ({ default: { storage: {} } }));
const { DownloadConsents } = await import('./download-consents');
const { memoryArea } = await import('./session-area');

describe('consent to a model download', () => {
  it('survives a restarted background, per model and backend, until the files are stored', async () => {
    const area = memoryArea();
    const before = new DownloadConsents(area);
    expect(await before.covers('s0', ['wasm'])).toBe(false);
    before.give('s0', ['wasm', 'webgpu']);
    before.give('s2', ['wasm']);
    expect(await before.covers('s0', ['wasm', 'webgpu'])).toBe(true);
    await before.flushed();

    // The worker stopped mid-download: the one started next reads the yes back.
    const after = new DownloadConsents(area);
    expect(await after.covers('s0', ['wasm', 'webgpu'])).toBe(true);
    expect(await after.covers('s2', ['wasm'])).toBe(true);
    expect(await after.covers('s2', ['wasm', 'webgpu'])).toBe(false);
    // WASM's files stored: the GPU's, still to come, keep their yes.
    after.drop('s0', ['wasm']);
    expect(await after.covers('s0', ['wasm'])).toBe(false);
    expect(await after.covers('s0', ['webgpu'])).toBe(true);
    // Cancelled, or deleted: every backend asks again.
    after.drop('s2');
    await after.flushed();
    expect(area.data.downloadConsents).toEqual({ s0: ['webgpu'] });
    expect(await new DownloadConsents(area).covers('s2', ['wasm'])).toBe(false);
  });

  it('a yes given before the stored ones are read back is kept with them', async () => {
    const area = memoryArea({ downloadConsents: { s0: ['wasm'] } });
    const consents = new DownloadConsents(area);
    consents.give('s1', ['wasm']);
    expect(await consents.covers('s0', ['wasm'])).toBe(true);
    expect(await consents.covers('s1', ['wasm'])).toBe(true);
    await consents.flushed();
    expect(area.data.downloadConsents).toEqual({ s0: ['wasm'], s1: ['wasm'] });
  });

  it('take only known backends from storage', async () => {
    const consents = new DownloadConsents(memoryArea({ downloadConsents: { s0: ['wasm', 'cuda', 3], s1: 'wasm', s2: [] } }));
    expect(await consents.covers('s0', ['wasm'])).toBe(true);
    expect(await consents.covers('s0', ['webgpu'])).toBe(false);
    expect(await consents.covers('s1', ['wasm'])).toBe(false);
    expect(await new DownloadConsents(memoryArea({ downloadConsents: ['s0'] })).covers('s0', ['wasm'])).toBe(false);
  });

  it('without storage.session, are kept in memory for as long as the background lives', async () => {
    const first = new DownloadConsents();
    first.give('s0', ['wasm']);
    await first.flushed();
    expect(await new DownloadConsents().covers('s0', ['wasm'])).toBe(true);
  });
});
