// storage.session, the part of it this background uses: kept for the browser session, never on
// disk, and surviving a restart of the service worker or event page (Chrome MV3 stops idle
// workers). Where a browser has no storage.session, a memory stand-in keeps the same interface:
// what is kept then lasts only as long as the background itself.
import browser from 'webextension-polyfill';

export interface SessionArea {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
}

/** An area in this context's memory (no storage.session, and unit tests). */
export function memoryArea(initial: Record<string, unknown> = {}): SessionArea & { readonly data: Record<string, unknown> } {
  const data: Record<string, unknown> = { ...initial };
  return {
    data,
    get: async (key) => (key in data ? { [key]: data[key] } : {}),
    set: async (items) => void Object.assign(data, items),
  };
}

let shared: SessionArea | undefined;

/** The browser's storage.session, or memory where the browser has none. */
export function sessionArea(): SessionArea {
  shared ??= (browser.storage as { session?: SessionArea } | undefined)?.session ?? memoryArea();
  return shared;
}

/** Writes one key's values in order, so the last value is what stays; a failed write is logged, not thrown. */
export class SessionValue<T> {
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly key: string,
    private readonly area: SessionArea,
  ) {}

  async read(): Promise<unknown> {
    const stored = await this.area.get(this.key).catch(() => ({}) as Record<string, unknown>);
    return stored[this.key];
  }

  write(value: T): void {
    this.saving = this.saving
      .then(() => this.area.set({ [this.key]: value }))
      .catch((error: unknown) => console.warn(`cannot keep ${this.key} for the session`, error));
  }

  /** Resolves once the writes asked for so far are done. */
  flushed(): Promise<void> {
    return this.saving;
  }
}
