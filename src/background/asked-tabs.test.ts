import { describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: { storage: {} } }));
const { AskedTabs } = await import('./asked-tabs');

function memoryArea(initial: Record<string, unknown> = {}) {
  const data: Record<string, unknown> = { ...initial };
  return { data, get: async (key: string) => (key in data ? { [key]: data[key] } : {}), set: async (items: Record<string, unknown>) => void Object.assign(data, items) };
}

describe('tabs asked for', () => {
  it('are kept in session storage and come back after a restart', async () => {
    const area = memoryArea();
    const before = new AskedTabs(area);
    expect(before.add(4)).toBe(true);
    expect(before.add(4)).toBe(false);
    before.add(9);
    before.delete(4);
    await before.flushed();
    expect(area.data.askedTabs).toEqual([9]);
    const after = new AskedTabs(area);
    expect(after.has(9)).toBe(false);
    expect(await after.restore()).toEqual([9]);
    expect(after.has(9)).toBe(true);
  });

  it('take only tab ids from storage', async () => {
    const tabs = new AskedTabs(memoryArea({ askedTabs: [3, 'x', -1, 2.5, null, 7] }));
    expect(await tabs.restore()).toEqual([3, 7]);
    expect(await new AskedTabs(memoryArea({ askedTabs: 'nope' })).restore()).toEqual([]);
  });
});
