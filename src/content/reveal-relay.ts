// Revealing an image inside an iframe: the frame that has the image scrolls it into view in its
// own document, then asks its parent frame (by postMessage, which works across origins) to bring
// the <iframe> element itself into view, and so on up. The background sends `reveal` to every
// frame, so each ancestor knows a reveal is under way and ignores such requests otherwise.
import { walkElements } from './walk';

const MESSAGE = 'mobileclip-lens:reveal-frame';
/** How long a reveal request and the frames' messages about it belong together. */
const WINDOW_MS = 2_000;

/** Smooth scrolling animates only in a shown page; a hidden one (tab in the background) must already be there when shown. */
export function scrollBehavior(): ScrollBehavior {
  return document.visibilityState === 'visible' ? 'smooth' : 'instant';
}

export interface RevealRelay {
  /** This frame got `reveal` for an image it does not have: a child frame may ask for help. */
  expectChildReveal(): void;
  /** This frame scrolled its image into view: ask the ancestors to show this frame. */
  askParentsToReveal(): void;
}

function frameElementFor(source: MessageEventSource | null): Element | null {
  if (!source) return null;
  let found: Element | null = null;
  walkElements(
    document.documentElement,
    (element) => {
      if (!found && (element instanceof HTMLIFrameElement || element instanceof HTMLFrameElement || element instanceof HTMLObjectElement) && element.contentWindow === source) {
        found = element;
      }
    },
    () => undefined,
  );
  return found;
}

export function createRevealRelay(): RevealRelay {
  let expectedUntil = 0;
  let early: { source: MessageEventSource; at: number } | null = null;

  const revealFrame = (source: MessageEventSource): void => {
    const frame = frameElementFor(source);
    if (!frame) return;
    frame.scrollIntoView({ behavior: scrollBehavior(), block: 'center' });
    relay.askParentsToReveal();
  };

  addEventListener('message', (event: MessageEvent) => {
    if (event.data !== MESSAGE || !event.source) return;
    // The child's message can arrive before this frame's own copy of the reveal command.
    if (Date.now() < expectedUntil) revealFrame(event.source);
    else early = { source: event.source, at: Date.now() };
  });

  const relay: RevealRelay = {
    expectChildReveal(): void {
      expectedUntil = Date.now() + WINDOW_MS;
      if (early && Date.now() - early.at < WINDOW_MS) revealFrame(early.source);
      early = null;
    },
    askParentsToReveal(): void {
      if (window.parent !== window) window.parent.postMessage(MESSAGE, '*');
    },
  };
  return relay;
}
