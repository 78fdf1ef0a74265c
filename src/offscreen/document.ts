// The offscreen document's lifecycle, as the Chrome service worker runs it: create it when WASM
// is needed, close it when it reports itself idle (or the engine is disposed). An extension has
// at most one offscreen document. Runs in the worker; the document itself is main.ts.

import { Mutex } from '../concurrency';
import { IDLE, OFFSCREEN_PATH } from './protocol';

declare const __TARGET__: 'chrome' | 'firefox';

// Chrome APIs the webextension-polyfill types do not cover.
interface ChromeApi {
  offscreen?: {
    createDocument(p: { url: string; reasons: string[]; justification: string }): Promise<void>;
    closeDocument(): Promise<void>;
  };
  runtime: {
    getURL(path: string): string;
    getContexts?(filter: { contextTypes?: string[]; documentUrls?: string[] }): Promise<{ documentId?: string; contextType?: string }[]>;
    onMessage: { addListener(fn: (message: unknown, sender: { url?: string }) => undefined): void };
  };
}

function chromeApi(): ChromeApi | undefined {
  return (globalThis as { chrome?: ChromeApi }).chrome;
}

/** Whether this browser has offscreen documents (Chrome 116+; not Firefox). */
export function offscreenAvailable(): boolean {
  return __TARGET__ === 'chrome' && !!chromeApi()?.offscreen && !!chromeApi()?.runtime.getContexts;
}

export function documentUrl(): string {
  return chromeApi()!.runtime.getURL(OFFSCREEN_PATH);
}

/** The document's id if it exists. */
export async function liveDocument(): Promise<string | undefined> {
  const contexts = await chromeApi()!.runtime.getContexts!({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [documentUrl()] });
  return contexts[0]?.documentId;
}

// Creating and closing go one at a time: a second createDocument while one exists throws.
const documentLock = new Mutex();
const serially = <T>(fn: () => Promise<T>): Promise<T> => documentLock.run(fn);

/** The document's id, creating it if there is none. */
export function ensureDocument(): Promise<string> {
  return serially(async () => {
    const existing = await liveDocument();
    if (existing) return existing;
    await chromeApi()!.offscreen!.createDocument({
      url: documentUrl(),
      reasons: ['WORKERS'],
      justification: 'Runs the image-search model on WebAssembly threads, which a service worker cannot start.',
    });
    const created = await liveDocument();
    if (!created) throw new Error('the offscreen document closed right after it was created');
    return created;
  });
}

/** Closes the document if it is still the one with this id (a newer one belongs to someone else). */
export function closeDocument(documentId: string): Promise<void> {
  return serially(async () => {
    if ((await liveDocument()) === documentId) await chromeApi()!.offscreen!.closeDocument();
  });
}

/**
 * Whether a page that may search is open: the popup, or an extension page in a tab or side
 * panel. Closing the document under one would make its next query wait for a whole cold start.
 */
async function searchersOpen(): Promise<boolean> {
  const views = await chromeApi()!.runtime.getContexts!({ contextTypes: ['POPUP', 'TAB', 'SIDE_PANEL'] });
  return views.length > 0;
}

/** A connection to a document, as far as closing that document is concerned. */
export interface DocumentUser {
  readonly documentId: string;
  /** Requests are waiting for answers. */
  readonly busy: boolean;
  close(reason: string): void;
}

/** Connections of this worker, so a document closed here fails their requests at once instead of at the next poll. */
export const documentUsers = new Set<DocumentUser>();

// The document asks to be closed when it has been idle (see IDLE), and again every IDLE_CLOSE_MS
// while it stays idle: Chrome itself closes only audio offscreen documents. Registered at the top
// level, as listeners must be, so that the message also reaches a worker it wakes.
if (__TARGET__ === 'chrome' && chromeApi()?.offscreen) {
  chromeApi()!.runtime.onMessage.addListener((msg, sender) => {
    if ((msg as { type?: unknown } | null)?.type !== IDLE || sender.url !== documentUrl()) return undefined;
    // (Chrome gives no documentId for an offscreen sender; there is one such document at most.)
    void liveDocument()
      .then(async (documentId) => {
        // A request sent meanwhile, or a page that may search, keeps it: the document asks again.
        if (!documentId || [...documentUsers].some((u) => u.documentId === documentId && u.busy)) return;
        if (await searchersOpen()) return;
        for (const u of documentUsers) if (u.documentId === documentId) u.close('the offscreen document was closed when idle');
        await closeDocument(documentId);
      })
      .catch(() => undefined);
    return undefined;
  });
}
