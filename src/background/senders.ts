// Who may talk to the background. Requests (search, classify, clear the cache…) come only from
// our own extension pages, known by their address (popup, options, offscreen document): not from
// a page, nor from another extension's frame, whatever it claims. Content messages come only from
// our content scripts, in a tab; those other than an image report only for tabs we track.

/** The parts of runtime.MessageSender the checks read. */
export interface Sender {
  id?: string;
  url?: string;
  tab?: { id?: number };
}

export interface Self {
  /** runtime.id */
  id: string;
  /** runtime.getURL(''): chrome-extension://<id>/ or moz-extension://<uuid>/ */
  baseUrl: string;
}

/** A page of this extension (by its address, which a page or another extension cannot take). */
export function isOwnExtensionPage(sender: Sender, self: Self): boolean {
  return sender.id === self.id && typeof sender.url === 'string' && sender.url.startsWith(self.baseUrl);
}

/** Our content script in a tab (its messages are about that tab only); the tab id, or null. */
export function contentSenderTab(sender: Sender, self: Self): number | null {
  if (sender.id !== self.id || sender.tab?.id === undefined || sender.tab.id < 0) return null;
  // Our own pages opened in a tab are not content scripts.
  if (typeof sender.url === 'string' && sender.url.startsWith(self.baseUrl)) return null;
  return sender.tab.id;
}
