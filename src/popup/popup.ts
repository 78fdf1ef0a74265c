// Popup: shows the tab's index state, takes queries, lists ranked results and acts on them.
// It holds no search state of its own: the background sends the whole view on every change.
// Openable as a page (popup.html?tab=<tabId>) for tests and for people who want it larger.
//   status.ts          counts, model state, empty-state sentences
//   results-grid.ts    the tiles and their stable order
//   keyboard.ts        arrows / Enter / Esc
//   result-actions.ts  open, copy, download
//   export.ts          CSV / JSON
//   classify-all.ts    every image under its label, grouped
import browser from 'webextension-polyfill';
import { POPUP_PORT, type TabView } from '../messages';
import { parseBackgroundPortMessage } from '../message-validators';
import { sendRequest } from '../send-request';
import { loadSettings } from '../settings';
import { describe } from '../errors';
import { formatNumber, formatPercent, localizeDocument, t, tn } from '../i18n';
import { emptyStateText, renderStatus } from './status';
import { ResultsGrid } from './results-grid';
import { attachKeyboard } from './keyboard';
import { copyAddress, copyImage, downloadImages, openInNewTab, requestDownloads } from './result-actions';
import { exportFileName, resultsToCsv, resultsToJson, saveTextFile } from './export';
import { showThumbnail } from './thumbnail';
import { attachClassifyAll } from './classify-all';
import { decorateResults, mountScope } from './scope'; // visual memory
import { mountIndexingControl } from './indexing-control';
import { Announcer, progressSentence } from './announcer';

const SEARCH_DELAY_MS = 180;

localizeDocument();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const search = $<HTMLInputElement>('search');
const modelMessage = $<HTMLParagraphElement>('model-message');
const actionMessage = $<HTMLParagraphElement>('action-message');

const scope = mountScope($('search-form'), () => void runSearch()); // visual memory
const indexingControl = mountIndexingControl((text) => say(text, true));
const announcer = new Announcer($('announcer'));
let tabId: number;
let grid: ResultsGrid;
let view: TabView | null = null;
let searchTimer: ReturnType<typeof setTimeout> | undefined;
/** The last text query, to go back to from "similar to". */
let lastQuery = '';
/** Until the first view, the box takes the tab's query (reopening the popup restores it). */
let restored = false;
/**
 * The text query this popup asked for last, until the background answers it. Views pushed before
 * then still carry the query before it (the background has not heard of this one yet): shown,
 * they would put that query's results under this one.
 */
let asked: string | null = null;

async function resolveTabId(): Promise<number> {
  const param = new URLSearchParams(location.search).get('tab');
  if (param !== null && /^\d+$/.test(param)) {
    document.body.classList.add('tab-page');
    return Number(param);
  }
  const [active] = await browser.tabs.query({ active: true, currentWindow: true });
  if (active?.id === undefined) throw new Error(t('popupNoActiveTab'));
  return active.id;
}

function say(text: string, error = false): void {
  actionMessage.hidden = false;
  actionMessage.classList.toggle('error', error);
  actionMessage.textContent = text;
}

/** Runs an action and reports its sentence, or its failure in words. */
function act(action: () => Promise<string>): void {
  action().then(say, (error: unknown) => say(describe(error), true));
}

function render(v: TabView): void {
  view = v;
  if (!restored) {
    restored = true;
    if (!search.value && v.query) search.value = v.query;
  }
  if (v.query) lastQuery = v.query;
  renderStatus(v, retryModel);
  indexingControl.render(v);
  announcer.say(v.model.phase === 'ready' || v.model.phase === 'idle' ? progressSentence(v) : modelMessage.textContent ?? '');
  search.disabled = v.unavailable !== null;
  grid.render(v);
  // Which query the results shown answer (tests wait on it; a new query's results come later).
  $('results').dataset.query = v.similarTo === null ? v.query : '';
  scope.render(v); // visual memory
  decorateResults($('results'), v.results); // visual memory: results of other pages
  renderAround(v);
}

/** Everything around the grid that depends on it: messages, toolbar, the similar bar. */
function renderAround(v: TabView): void {
  const empty = $('empty');
  const text = emptyStateText(v);
  empty.hidden = text === null;
  empty.textContent = text ?? '';
  const matches = grid.matches().length;
  const searching = v.query !== '' || v.similarTo !== null;
  const noMatch = $('no-match');
  noMatch.hidden = !(searching && v.results.length > 0 && matches === 0);
  noMatch.textContent = v.similarTo ? t('popupNoSimilar') : tn('popupNoMatch', v.results.length, v.query, formatNumber(v.results.length));
  $('toolbar').hidden = v.results.length === 0;
  $('match-count').textContent = tn('popupMatchCount', matches, formatNumber(matches));
  const showAll = $<HTMLButtonElement>('show-all');
  showAll.hidden = matches === v.results.length;
  showAll.textContent = grid.showAll ? t('popupMatchesOnly') : t('popupShowAll', formatNumber(v.results.length));
  showAll.setAttribute('aria-pressed', String(grid.showAll));
  $<HTMLButtonElement>('select-matches').disabled = matches === 0;
  const download = $<HTMLButtonElement>('download-selected');
  download.disabled = grid.selected.size === 0;
  download.textContent = grid.selected.size ? t('popupDownloadCount', formatNumber(grid.selected.size)) : t('popupDownload');
  $('held').hidden = !grid.held;

  const bar = $('similar-bar');
  bar.hidden = v.similarTo === null;
  if (v.similarTo && bar.dataset.src !== v.similarTo) {
    bar.dataset.src = v.similarTo;
    showThumbnail($<HTMLImageElement>('similar-source'), tabId, v.similarTo);
  }
  $('similar-back').textContent = lastQuery ? t('popupBackToQuery', lastQuery) : t('popupBackToSearch');
}

async function runSearch(query = search.value): Promise<void> {
  const asking = (asked = query.trim());
  try {
    const response = await sendRequest({ type: 'search', tabId, query, scope: scope.value() });
    if (response.view.query === search.value.trim()) render(response.view);
  } catch (error) {
    modelMessage.hidden = false;
    modelMessage.classList.add('error');
    modelMessage.textContent = t('popupSearchFailed', describe(error));
  } finally {
    // Answered (or failed): pushed views carry this query now, unless a newer one is asked meanwhile.
    if (asked === asking) asked = null;
  }
}

async function findSimilar(url: string): Promise<void> {
  clearTimeout(searchTimer);
  asked = null;
  try {
    render((await sendRequest({ type: 'similar', tabId, url, scope: scope.value() })).view);
  } catch (error) {
    say(t('popupSimilarFailed', describe(error)), true);
  }
}

/** Loads the model again; the background also re-queues the images that failed because of it. */
function retryModel(): void {
  // Results for the current query refresh by themselves as the images get indexed again.
  sendRequest({ type: 'retry-model' }).catch((error: Error) => {
    modelMessage.hidden = false;
    modelMessage.classList.add('error');
    modelMessage.textContent = t('popupRetryFailed', error.message);
  });
}

function exportResults(kind: 'csv' | 'json'): void {
  if (!view) return;
  const now = new Date();
  const text = kind === 'csv' ? resultsToCsv(view.results, view.pageUrl) : resultsToJson(view, now);
  saveTextFile(exportFileName(view.pageUrl, kind, now), text, kind === 'csv' ? 'text/csv' : 'application/json');
  say(tn('popupExported', view.results.length, formatNumber(view.results.length), kind.toUpperCase()));
}

/** The permission request must come first in the click: browsers only grant it during the gesture. */
function download(urls: string[]): void {
  act(async () => {
    if (!(await requestDownloads())) return t('popupDownloadsPermission');
    return downloadImages(urls);
  });
}

function connect(): void {
  const port = browser.runtime.connect({ name: POPUP_PORT });
  port.onMessage.addListener((raw: unknown) => {
    const message = parseBackgroundPortMessage(raw);
    if (!message || message.view.tabId !== tabId) return;
    const v = message.view;
    if (asked !== null && v.similarTo === null && v.query !== asked) return; // see `asked`
    render(v);
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

function wire(): void {
  grid = new ResultsGrid($<HTMLOListElement>('results'), tabId, {
    reveal: (url) => void sendRequest({ type: 'reveal', tabId, url }).catch(() => undefined),
    similar: (url) => void findSimilar(url),
    classify: async (url) => {
      try {
        const top = (await sendRequest({ type: 'classify', tabId, url })).labels[0];
        return top ? `${top.label} (${formatPercent(top.probability)})` : t('popupNoLabel');
      } catch (error) {
        return t('popupClassifyFailed', describe(error));
      }
    },
    open: (url) => act(() => openInNewTab(url)),
    copyAddress: (url) => act(() => copyAddress(url)),
    copyImage: (url) => act(() => copyImage(tabId, url)),
    download: (url) => download([url]),
    selectionChanged: () => view && renderAround(view),
    settled: () => view && renderAround(view),
  });
  attachKeyboard(search, $('results'), {
    tiles: () => grid.visibleTiles(),
    reveal: (tile) => void sendRequest({ type: 'reveal', tabId, url: tile.dataset.src ?? '' }).catch(() => undefined),
    clear: () => {
      if (!search.value && !view?.query && !view?.similarTo) return false;
      clearTimeout(searchTimer);
      search.value = '';
      lastQuery = '';
      runSearch('');
      return true;
    },
  });
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    runSearch();
  });
  $('show-all').addEventListener('click', () => {
    grid.setShowAll(!grid.showAll);
    if (view) renderAround(view);
  });
  $('select-matches').addEventListener('click', () => grid.selectMatches());
  $('download-selected').addEventListener('click', () => download([...grid.selected]));
  $('export-csv').addEventListener('click', () => exportResults('csv'));
  $('export-json').addEventListener('click', () => exportResults('json'));
  $('similar-back').addEventListener('click', () => {
    search.value = lastQuery;
    runSearch(lastQuery);
    search.focus();
  });
}

$('options').addEventListener('click', (event) => {
  event.preventDefault();
  browser.runtime.openOptionsPage();
});

loadSettings()
  .then((settings) => (document.body.dataset.size = settings.popupSize))
  .catch(() => undefined); // the default size stays

resolveTabId()
  .then((id) => {
    tabId = id;
    wire();
    connect();
    attachClassifyAll(tabId, (url) => void sendRequest({ type: 'reveal', tabId, url }).catch(() => undefined)).catch((error: unknown) => say(describe(error), true));
    search.focus();
  })
  .catch((error: Error) => {
    modelMessage.hidden = false;
    modelMessage.classList.add('error');
    modelMessage.textContent = error.message;
  });
