// Content script (every frame): reports the page's images to the background and draws results.
// It never runs the model or touches storage; it only looks at the DOM and draws.
import browser from 'webextension-polyfill';
import { parsePageCommand, type ContentMessage, type PageCommand } from '../messages';
import { discoverImages, type DiscoveredImage } from './discover';
import { Overlay } from './overlay';
import { DEFAULT_SETTINGS, loadSettings } from '../settings';

const RESCAN_DELAY_MS = 400;

const overlay = new Overlay();
let current: DiscoveredImage[] = [];
let lastReport = '';
let minSize = DEFAULT_SETTINGS.minImageSize;
let rescanTimer: ReturnType<typeof setTimeout> | undefined;
let lastContextTarget: Element | null = null;

function report(): void {
  const { images, hidden } = discoverImages(document, { minSize });
  current = images;
  const payload = images.map(({ element: _element, ...image }) => image);
  // Unchanged lists are not re-sent: pages mutate constantly (carousels, ads, timers).
  const key = JSON.stringify([payload.map((i) => [i.url, i.visible]), hidden]);
  if (key === lastReport) return;
  lastReport = key;
  const message: ContentMessage = { type: 'images-found', pageUrl: location.href, images: payload, hidden };
  browser.runtime.sendMessage(message).catch(() => {
    // The background may be restarting (extension update); the next change re-reports.
    lastReport = '';
  });
}

function scheduleRescan(): void {
  clearTimeout(rescanTimer);
  rescanTimer = setTimeout(report, RESCAN_DELAY_MS);
}

function elementFor(url: string): Element | undefined {
  if (lastContextTarget?.isConnected) {
    const hit = current.find((i) => i.element === lastContextTarget && i.url === url);
    if (hit) return hit.element;
  }
  return current.find((i) => i.url === url)?.element;
}

function handleCommand(command: PageCommand): void {
  switch (command.type) {
    case 'highlight': {
      const matches = command.results.flatMap((r) => {
        const element = elementFor(r.url);
        return element ? [{ element, rank: r.rank, score: r.score }] : [];
      });
      overlay.highlight(matches);
      break;
    }
    case 'clear-highlights':
      overlay.clearHighlights();
      overlay.destroy();
      break;
    case 'reveal': {
      const element = elementFor(command.url);
      if (!element) return;
      element.scrollIntoView({ behavior: 'smooth', block: 'center' });
      overlay.pulse(element);
      break;
    }
    case 'show-classification': {
      const element = elementFor(command.url) ?? (lastContextTarget?.isConnected ? lastContextTarget : undefined);
      if (element) overlay.showClassification(element, command.labels, command.error);
      break;
    }
    case 'rescan':
      lastReport = '';
      report();
      break;
  }
}

browser.runtime.onMessage.addListener((raw: unknown) => {
  const command = parsePageCommand(raw);
  if (command) handleCommand(command);
  return undefined;
});

addEventListener('contextmenu', (event) => {
  lastContextTarget = event.target instanceof Element ? event.target : null;
}, { capture: true, passive: true });

new MutationObserver(scheduleRescan).observe(document.documentElement, {
  childList: true,
  subtree: true,
  attributes: true,
  attributeFilter: ['src', 'srcset', 'style', 'class', 'hidden', 'data-src', 'data-srcset'],
});
// Images finishing their load change their rendered size; capture-phase catches every <img>.
addEventListener('load', scheduleRescan, { capture: true, passive: true });
addEventListener('resize', scheduleRescan, { passive: true });

loadSettings()
  .then((settings) => (minSize = settings.minImageSize))
  .catch(() => undefined)
  .finally(report);
