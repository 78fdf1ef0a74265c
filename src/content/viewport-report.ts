// Tells the background where the top frame is scrolled to, so that it indexes what the person
// looks at first (background/viewport-order.ts): the position THROTTLE_MS after a scroll
// starts, so at most one message per THROTTLE_MS, and the last one where scrolling stopped. The images' own positions came with the page's report, so a
// scroll costs one small message, not a rescan.
import type { ContentMessage } from '../messages';

const THROTTLE_MS = 250;

export function reportViewport(send: (message: ContentMessage) => void): void {
  if (window !== window.top) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastSent = '';
  const sendNow = () => {
    timer = undefined;
    const message: ContentMessage = { type: 'viewport', top: Math.round(scrollY), height: Math.round(innerHeight) };
    const key = `${message.top}:${message.height}`;
    if (key === lastSent) return;
    lastSent = key;
    send(message);
  };
  const soon = () => {
    timer ??= setTimeout(sendNow, THROTTLE_MS);
  };
  addEventListener('scroll', soon, { passive: true });
  addEventListener('resize', soon, { passive: true });
}
