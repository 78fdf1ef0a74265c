// Popup: shows the tab's index state, takes queries, lists ranked results.
// It holds no state of its own: the background sends the whole view on every change.
// Openable as a page (popup.html?tab=<tabId>) for tests and for people who want it larger.
import browser from 'webextension-polyfill';
import { POPUP_PORT, parseBackgroundPortMessage, type SearchResult, type TabView } from '../messages';
import { sendRequest } from '../send-request';
import { decorateResult, mountScope } from './scope'; // visual memory

const SEARCH_DELAY_MS = 180;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const search = $<HTMLInputElement>('search');
const resultsList = $<HTMLOListElement>('results');
const progress = $<HTMLProgressElement>('progress');
const modelMessage = $<HTMLParagraphElement>('model-message');
const empty = $<HTMLParagraphElement>('empty');

const scope = mountScope($('search-form'), () => void runSearch()); // visual memory
let tabId: number;
let view: TabView | null = null;
let searchTimer: ReturnType<typeof setTimeout> | undefined;
/** Classification answers shown under results, kept across re-renders. */
const classified = new Map<string, string>();

async function resolveTabId(): Promise<number> {
  const param = new URLSearchParams(location.search).get('tab');
  if (param !== null && /^\d+$/.test(param)) {
    document.body.classList.add('tab-page');
    return Number(param);
  }
  const [active] = await browser.tabs.query({ active: true, currentWindow: true });
  if (active?.id === undefined) throw new Error('No active tab');
  return active.id;
}

function renderStatus(v: TabView): void {
  $('image-count').textContent = String(v.found);
  const parts = [`${v.indexed} indexed`];
  if (v.pending) parts.push(`${v.pending} waiting`);
  if (v.failed) parts.push(`${v.failed} failed`);
  if (v.hidden) parts.push(`${v.hidden} hidden`);
  $('indexed-line').textContent = parts.join(' · ');
  renderStats(v.stats);
  $('model-name').textContent = v.model.label || 'model';
  $('backend').textContent = v.model.backend ?? '–';
  const threads = v.model.backend === 'wasm' ? v.model.threads : null;
  $('threads').textContent = threads ? ` · ${threads} thread${threads === 1 ? '' : 's'}` : '';
  $('fixture-banner').hidden = !v.model.testOnly;
  const unavailable = $('unavailable');
  unavailable.hidden = !v.unavailable;
  unavailable.textContent = v.unavailable ?? '';

  const { phase } = v.model;
  modelMessage.hidden = phase === 'ready' || phase === 'idle';
  modelMessage.classList.toggle('error', phase === 'error');
  modelMessage.replaceChildren();
  if (phase === 'downloading') {
    modelMessage.textContent = `Downloading ${v.model.label} (one time only)…${downloadAmount(v.model)}`;
    progress.value = v.model.progress ?? 0;
  } else if (phase === 'loading') {
    modelMessage.textContent = `Starting ${v.model.label}…`;
  } else if (phase === 'error') {
    // The background words the error as a whole sentence (which model, which file, what to do).
    modelMessage.textContent = v.model.error ?? 'The model could not load.';
    const retry = document.createElement('button');
    retry.textContent = 'Retry';
    retry.setAttribute('data-testid', 'retry');
    retry.addEventListener('click', () => {
      retry.disabled = true;
      retryModel();
    });
    modelMessage.append(retry);
  }
  if (phase !== 'downloading') progress.value = v.found > 0 ? (v.indexed + v.failed) / v.found : 0;
  progress.dataset.done = String(v.indexed + v.failed);
  progress.dataset.total = String(v.found);

  const errors = $<HTMLDetailsElement>('errors');
  errors.hidden = v.errors.length === 0;
  $('errors-summary').textContent = `${v.failed} image${v.failed === 1 ? '' : 's'} could not be read`;
  $('error-list').replaceChildren(
    ...v.errors.map((e) => {
      const li = document.createElement('li');
      li.textContent = `${e.error}: ${e.url.startsWith('data:') ? 'inline image' : e.url}`;
      return li;
    }),
  );
}

/** How many images the model ran on for this page, and how many the caches answered. */
function renderStats({ embedded, fromCache }: TabView['stats']): void {
  const stats = $('index-stats');
  stats.dataset.embedded = String(embedded);
  stats.dataset.fromCache = String(fromCache);
  stats.hidden = embedded + fromCache === 0;
  stats.textContent = `${embedded} embedded · ${fromCache} from cache`;
}

const thumbnails = new Map<string, Promise<string>>();

/**
 * Web addresses load directly; blob:, page-local and data: images (and any web image the popup
 * may not load: hotlink protection, expired links) show the background's preview instead.
 */
function showThumbnail(img: HTMLImageElement, url: string): void {
  const usePreview = () => {
    img.onerror = null;
    if (!thumbnails.has(url)) thumbnails.set(url, sendRequest({ type: 'thumbnail', tabId, url }).then((r) => r.dataUrl));
    thumbnails.get(url)!.then((dataUrl) => (img.src = dataUrl), () => img.classList.add('missing'));
  };
  if (/^https?:/i.test(url) && !thumbnails.has(url)) {
    img.onerror = usePreview;
    img.src = url;
  } else usePreview();
}

function resultItem(r: SearchResult): HTMLLIElement {
  const li = document.createElement('li');
  li.setAttribute('data-testid', 'result');
  li.dataset.src = r.url;
  li.dataset.score = r.score.toFixed(4);
  li.dataset.rank = String(r.rank);
  li.className = r.match ? 'match' : 'weak';
  li.tabIndex = 0;
  li.title = r.alt ? `${r.alt}\nClick to show on the page` : 'Click to show on the page';
  const img = document.createElement('img');
  showThumbnail(img, r.url);
  img.alt = r.alt;
  img.loading = 'lazy';
  img.referrerPolicy = 'no-referrer';
  const meta = document.createElement('div');
  meta.className = 'meta';
  const rank = document.createElement('span');
  rank.className = 'rank';
  rank.textContent = `#${r.rank} · ${r.score.toFixed(3)}`;
  const classify = document.createElement('button');
  classify.className = 'classify';
  classify.textContent = 'Classify';
  classify.setAttribute('data-testid', 'classify-button');
  meta.append(rank, classify);
  li.append(img, meta);
  const answer = classified.get(r.url);
  if (answer) {
    const labels = document.createElement('div');
    labels.className = 'labels';
    labels.setAttribute('data-testid', 'classify-label');
    labels.textContent = answer;
    li.append(labels);
  }
  decorateResult(li, r); // visual memory: results of other pages
  const reveal = () => sendRequest({ type: 'reveal', tabId, url: r.url }).catch(() => undefined);
  li.addEventListener('click', (event) => {
    if (event.target !== classify) reveal();
  });
  li.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') reveal();
  });
  classify.addEventListener('click', async () => {
    classify.disabled = true;
    classify.textContent = '…';
    try {
      const response = await sendRequest({ type: 'classify', tabId, url: r.url });
      const top = response.labels[0];
      classified.set(r.url, top ? `${top.label} (${(top.probability * 100).toFixed(0)}%)` : 'no label');
    } catch (error) {
      classified.set(r.url, `Could not classify: ${(error as Error).message}`);
    }
    if (view) renderResults(view, true);
  });
  return li;
}

let renderedKey = '';

function renderResults(v: TabView, force = false): void {
  // Views arrive many times a second while indexing; rebuilding unchanged results would
  // reload thumbnails and pull buttons out from under the pointer.
  const key = JSON.stringify(v.results.map((r) => [r.url, r.score, r.match]));
  if (force || key !== renderedKey) resultsList.replaceChildren(...v.results.map(resultItem));
  renderedKey = key;
  empty.hidden = true;
  if (v.unavailable) return;
  if (v.query && v.results.length === 0) {
    empty.hidden = false;
    empty.textContent = v.indexed === 0 ? 'Nothing indexed yet — results appear as images are processed.' : 'No images to rank.';
  } else if (!v.query && v.found === 0) {
    empty.hidden = false;
    empty.textContent = 'No images found on this page yet.';
  } else if (!v.query) {
    empty.hidden = false;
    empty.textContent = 'Type what you are looking for. Combine ideas with + and −, e.g. “beach + dog - people”.';
  }
}

function render(v: TabView): void {
  view = v;
  renderStatus(v);
  scope.render(v); // visual memory
  renderResults(v);
  if (document.activeElement !== search && search.value === '' && v.query) search.value = v.query;
}

async function runSearch(): Promise<void> {
  try {
    const response = await sendRequest({ type: 'search', tabId, query: search.value, scope: scope.value() });
    if (response.view.query === search.value.trim()) render(response.view);
  } catch (error) {
    modelMessage.hidden = false;
    modelMessage.classList.add('error');
    modelMessage.textContent = `Search failed: ${(error as Error).message}`;
  }
}

/** " 42% of 86 MB" once the size is known, else " 12 MB" so far; empty before the first byte. */
function downloadAmount(model: TabView['model']): string {
  const d = model.downloaded;
  if (!d) return model.progress === null ? '' : ` ${Math.floor(model.progress * 100)}%`;
  if (d.total) return ` ${Math.floor((d.loaded / d.total) * 100)}% of ${megabytes(d.total)}`;
  return ` ${megabytes(d.loaded)}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/** Loads the model again; the background also re-queues the images that failed because of it. */
function retryModel(): void {
  // Results for the current query refresh by themselves as the images get indexed again.
  sendRequest({ type: 'retry-model' }).catch((error: Error) => {
      modelMessage.hidden = false;
      modelMessage.classList.add('error');
      modelMessage.textContent = `Retry failed: ${error.message}`;
    });
}

function connect(): void {
  const port = browser.runtime.connect({ name: POPUP_PORT });
  port.onMessage.addListener((raw: unknown) => {
    const message = parseBackgroundPortMessage(raw);
    if (message && message.view.tabId === tabId) render(message.view);
  });
  // A Firefox event page or Chrome worker that restarts drops the port and forgets the query:
  // reconnect, get the current view, and ask again for what the search box holds.
  port.onDisconnect.addListener(() =>
    setTimeout(() => {
      connect();
      if (search.value.trim()) runSearch();
    }, 250),
  );
  port.postMessage({ type: 'subscribe', tabId });
}

search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
});
$('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  runSearch();
});
$('options').addEventListener('click', (event) => {
  event.preventDefault();
  browser.runtime.openOptionsPage();
});

resolveTabId()
  .then((id) => {
    tabId = id;
    connect();
    search.focus();
  })
  .catch((error: Error) => {
    modelMessage.hidden = false;
    modelMessage.classList.add('error');
    modelMessage.textContent = error.message;
  });
