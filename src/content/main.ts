// Content script (every frame): reports the frame's images to the background, answers its
// requests for page-only pixels, and draws results. It never runs the model or touches storage.
import browser from 'webextension-polyfill';
import { REPORT_PART_IMAGES, type ContentMessage, type ContextTargetResponse, type FoundImage, type PageCommand } from '../messages';
import { parsePageCommand } from '../message-validators';
import { DEFAULT_SETTINGS, loadSettings, onSettingsChanged } from '../settings';
import { ContextTargets } from './context-target';
import { ImageScanner, TimeSlicer, type DiscoverOptions, type Placement } from './discover';
import { Overlay } from './overlay';
import { PageUi } from './page-ui';
import { prepareCapture, readImage, type ReadSources } from './read-image';
import { createRevealRelay, scrollBehavior } from './reveal-relay';
import { reportViewport } from './viewport-report';
import { watchPage } from './watch';

declare const __TEST_BUILD__: boolean;

/** How long our highlights stay hidden while the background takes a screenshot. */
const CAPTURE_HIDE_MS = 1_000;
/** When the background did not take a report (restarting), the next try. */
const REPORT_RETRY_MS = 2_000;

const overlay = new Overlay();
let options: DiscoverOptions = { minSize: DEFAULT_SETTINGS.minImageSize, skipTrackingPixels: DEFAULT_SETTINGS.skipTrackingPixels };
let sources: ReadSources = { placements: new Map(), longDataUrls: new Map() };
let lastReport = '';
/** Numbers this frame's reports, so parts of one are never taken for parts of another (random start: a new document in the same frame starts over). */
let reportScan = Math.floor(Math.random() * 2 ** 30);
const scanLog: object[] = [];

const watcher = watchPage(document, scan);
const scanner = new ImageScanner(document, watcher.observeShadowRoot, watcher.watchLoad);
watcher.attach(scanner);

async function scan(): Promise<void> {
  const started = performance.now();
  const slicer = new TimeSlicer();
  const extraction = await scanner.extract(slicer);
  if (extraction.retryInMs !== undefined) watcher.scanSoon(extraction.retryInMs);
  const extractedAt = performance.now();
  const { images, omitted, hidden, placements, longDataUrls } = await scanner.measure(options, slicer);
  const measuredAt = performance.now();
  sources = { placements, longDataUrls };
  await report(images, hidden, omitted, slicer);
  slicer.stop();
  if (__TEST_BUILD__) {
    // Test builds leave the last scans' timings where e2e tests can read them (release builds touch no page DOM).
    const ms = (n: number) => Math.round(n * 10) / 10;
    scanLog.push({
      extracted: extraction.extracted,
      slices: slicer.slices,
      busyMs: ms(slicer.busyMs),
      longestSliceMs: ms(slicer.longestMs),
      noted: slicer.noted,
      imageElements: scanner.knownImageElements,
      extractMs: ms(extractedAt - started),
      measureMs: ms(measuredAt - extractedAt),
      images: images.length,
      omitted,
      hidden,
    });
    document.documentElement.dataset.lensScans = JSON.stringify(scanLog.slice(-20));
  }
}

/**
 * Sends the frame's list, unless unchanged: pages mutate constantly (carousels, ads, timers). A long
 * list goes in parts, sent in turns with the page: serialising thousands of images for one message
 * would be one long task.
 */
async function report(images: FoundImage[], hidden: number, omitted: number, slicer: TimeSlicer): Promise<void> {
  // The comparison key and each part are steps of their own: on thousands of images each is a
  // few milliseconds, together they would be one long stretch. Nothing here reads styles or
  // geometry, so no rendering is waited for unless the stretch is already long: while a page's
  // pictures load its frames come late, and a wait here held every report back by one.
  await slicer.tick();
  slicer.step('report');
  const key = JSON.stringify([images.map((i) => [i.url, i.visible, i.referrerPolicy]), hidden, omitted]);
  if (key === lastReport) return;
  lastReport = key;
  const count = Math.ceil(images.length / REPORT_PART_IMAGES);
  const scan = ++reportScan;
  const sent: Promise<unknown>[] = [];
  for (let index = 0; index < Math.max(1, count); index++) {
    await slicer.tick();
    const message: ContentMessage = {
      type: 'images-found',
      pageUrl: location.href,
      images: count > 1 ? images.slice(index * REPORT_PART_IMAGES, (index + 1) * REPORT_PART_IMAGES) : images,
      hidden,
      ...(omitted > 0 && { omitted }),
      ...(count > 1 && { part: { scan, index, count } }),
    };
    sent.push(browser.runtime.sendMessage(message));
  }
  slicer.step('report-sent');
  Promise.all(sent).catch(() => {
    // The background may be restarting (extension update): report again shortly.
    lastReport = '';
    watcher.scanSoon(REPORT_RETRY_MS);
  });
}

function placementsFor(url: string): Placement[] {
  return sources.placements.get(url)?.filter((p) => p.element.isConnected) ?? [];
}

const revealRelay = createRevealRelay();
const contextTargets = new ContextTargets(() => sources.placements);
// A background that is restarting misses a position; the next scroll sends one again.
reportViewport((message) => void browser.runtime.sendMessage(message).catch(() => undefined));

/** Scrolls to this frame's element showing `url` and pulses it; false when another frame has it. */
function revealHere(url: string): boolean {
  const element = placementsFor(url)[0]?.element;
  if (!element) return false;
  element.scrollIntoView({ behavior: scrollBehavior(), block: 'center' });
  revealRelay.askParentsToReveal();
  overlay.pulse(element);
  return true;
}

const pageUi = new PageUi({ overlay, placementsFor, revealHere, contextTargets });

function handleCommand(command: PageCommand): Promise<unknown> | undefined {
  switch (command.type) {
    case 'highlight':
      pageUi.highlight(command);
      return undefined;
    case 'clear-highlights':
      pageUi.clearHighlights();
      return undefined;
    case 'reveal':
      // Another frame has it; if that frame is inside this one, bring the frame into view.
      if (!revealHere(command.url)) revealRelay.expectChildReveal();
      return undefined;
    case 'show-classification':
      pageUi.showClassification(command);
      return undefined;
    case 'notice':
      pageUi.notice(command);
      return undefined;
    case 'nav-to':
      pageUi.navTo(command);
      return undefined;
    case 'context-target':
      return Promise.resolve({ url: contextTargets.resolve()?.url ?? null } satisfies ContextTargetResponse);
    case 'rescan':
      lastReport = '';
      scanner.markAll();
      watcher.scanSoon(0);
      return undefined;
    case 'read-image':
      // Only the frame that reported the image answers; others stay silent for the right one.
      return sources.placements.has(command.url) || sources.longDataUrls.has(command.url) ? readImage(command, sources) : undefined;
    case 'prepare-capture':
      return sources.placements.has(command.url) ? prepareCapture(command.url, sources, () => overlay.suspend(CAPTURE_HIDE_MS)) : undefined;
  }
}

browser.runtime.onMessage.addListener((raw: unknown) => {
  const command = parsePageCommand(raw);
  return command ? handleCommand(command) : undefined;
});

addEventListener('contextmenu', (event) => contextTargets.record(event as MouseEvent), { capture: true, passive: true });

// An iframe that is removed or navigated takes its images with it; a page restored from the
// back/forward cache shows them again.
addEventListener('pagehide', () => {
  if (window === window.top) return;
  const message: ContentMessage = { type: 'images-found', pageUrl: location.href, images: [], hidden: 0 };
  browser.runtime.sendMessage(message).catch(() => undefined);
  lastReport = '';
});
addEventListener('pageshow', (event) => {
  if ((event as PageTransitionEvent).persisted) watcher.scanSoon(0);
});

function applySettings(settings: typeof DEFAULT_SETTINGS): void {
  const next = { minSize: settings.minImageSize, skipTrackingPixels: settings.skipTrackingPixels };
  if (JSON.stringify(next) === JSON.stringify(options)) return;
  options = next;
  watcher.scanSoon(0);
}

onSettingsChanged(applySettings);
loadSettings()
  .then(applySettings)
  .catch(() => undefined)
  .finally(() => watcher.scanSoon(0));
