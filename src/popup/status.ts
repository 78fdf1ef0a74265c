// The popup's status area: counts, model state, failures, and the sentences for empty states.
import type { TabView, UnavailableReason } from '../messages';
import { formatNumber, t, tn, type MessageKey } from '../i18n';
import { omittedText, renderFailures } from './failures';
import { renderModelMessage } from './model-message';

const $ = (id: string) => document.getElementById(id) as HTMLElement;

const UNAVAILABLE_TEXT: Record<UnavailableReason, MessageKey> = {
  blank: 'popupUnavailableBlank',
  'browser-page': 'popupUnavailableBrowserPage',
  store: 'popupUnavailableStore',
  pdf: 'popupUnavailablePdf',
};

export function renderStatus(v: TabView, onRetry: () => void): void {
  const count = $('image-count');
  count.textContent = formatNumber(v.found);
  count.dataset.count = String(v.found);
  $('image-count-word').textContent = tn('popupImageWord', v.found);
  const parts = [t('popupIndexed', formatNumber(v.indexed))];
  if (v.pending) parts.push(t('popupWaiting', formatNumber(v.pending)));
  if (v.failed) parts.push(t('popupFailed', formatNumber(v.failed)));
  if (v.hidden) parts.push(t('popupHidden', formatNumber(v.hidden)));
  $('indexed-line').textContent = parts.join(' · ');
  const merged = $('merged');
  merged.hidden = v.merged === 0;
  merged.dataset.merged = String(v.merged);
  merged.textContent = tn('popupMerged', v.found + v.merged, formatNumber(v.found + v.merged), formatNumber(v.merged));
  renderStats(v.stats);
  $('model-name').textContent = v.model.label || t('popupModelFallback');
  $('backend').textContent = v.model.backend ?? '–';
  const threads = v.model.backend === 'wasm' ? v.model.threads : null;
  $('threads').textContent = threads ? ` · ${tn('popupThreads', threads, formatNumber(threads))}` : '';
  $('fixture-banner').hidden = !v.model.testOnly;
  const gpu = $('gpu-unavailable');
  gpu.hidden = !v.model.webgpuFailure;
  gpu.textContent = v.model.webgpuFailure ? t('popupGpuUnavailable', v.model.webgpuFailure) : '';
  const unavailable = $('unavailable');
  unavailable.hidden = !v.unavailable;
  unavailable.textContent = v.unavailable ? t(UNAVAILABLE_TEXT[v.unavailable]) : '';

  const progress = $('progress') as HTMLProgressElement;
  const downloadShare = renderModelMessage($('model-message'), v.model, onRetry);
  // While the model cannot run, images that failed for it are not progress: the bar is never full on a failure.
  const counted = v.model.phase === 'error' || v.model.phase === 'confirm' ? v.indexed : v.indexed + v.failed;
  progress.value = downloadShare ?? (v.found > 0 ? counted / v.found : 0);
  progress.dataset.done = String(v.indexed + v.failed);
  progress.dataset.total = String(v.found);

  const omitted = $('omitted');
  const omittedLine = omittedText(v);
  omitted.hidden = omittedLine === null;
  omitted.textContent = omittedLine ?? '';
  omitted.dataset.omitted = String(v.omitted);
  renderFailures(v);
}

/** How many images the model ran on for this page, and how many the caches answered. */
function renderStats({ embedded, fromCache }: TabView['stats']): void {
  const stats = $('index-stats');
  stats.dataset.embedded = String(embedded);
  stats.dataset.fromCache = String(fromCache);
  stats.hidden = embedded + fromCache === 0;
  stats.textContent = t('popupIndexStats', formatNumber(embedded), formatNumber(fromCache));
}

/** The sentence under the search box when there are no results to show; null when there are. */
export function emptyStateText(v: TabView): string | null {
  if (v.unavailable) return null;
  const searching = v.query !== '' || v.similarTo !== null;
  if (v.pageUrl === '') return t('popupLooking');
  if (v.found === 0) return t('popupNoImages');
  if (!searching) return null;
  if (v.results.length > 0) return null;
  if (v.pending > 0) return t('popupIndexingWait');
  if (v.indexed === 0) return t('popupNoneReadable');
  return t('popupNothingToRank');
}
