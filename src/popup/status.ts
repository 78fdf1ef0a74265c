// The popup's status area: counts, model state, failures, and the sentences for empty states.
import type { TabView } from '../messages';
import { omittedText, renderFailures } from './failures';
import { renderModelMessage } from './model-message';

const $ = (id: string) => document.getElementById(id) as HTMLElement;

export function renderStatus(v: TabView, onRetry: () => void): void {
  $('image-count').textContent = String(v.found);
  const parts = [`${v.indexed} indexed`];
  if (v.pending) parts.push(`${v.pending} waiting`);
  if (v.failed) parts.push(`${v.failed} failed`);
  if (v.hidden) parts.push(`${v.hidden} hidden`);
  $('indexed-line').textContent = parts.join(' · ');
  const merged = $('merged');
  merged.hidden = v.merged === 0;
  merged.dataset.merged = String(v.merged);
  merged.textContent = `${v.found + v.merged} images, ${v.merged} shown once: identical copies merged`;
  renderStats(v.stats);
  $('model-name').textContent = v.model.label || 'model';
  $('backend').textContent = v.model.backend ?? '–';
  const threads = v.model.backend === 'wasm' ? v.model.threads : null;
  $('threads').textContent = threads ? ` · ${threads} thread${threads === 1 ? '' : 's'}` : '';
  $('fixture-banner').hidden = !v.model.testOnly;
  const gpu = $('gpu-unavailable');
  gpu.hidden = !v.model.webgpuFailure;
  gpu.textContent = v.model.webgpuFailure ? `GPU unavailable: running on CPU (${v.model.webgpuFailure})` : '';
  const unavailable = $('unavailable');
  unavailable.hidden = !v.unavailable;
  unavailable.textContent = v.unavailable ?? '';

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
  stats.textContent = `${embedded} embedded · ${fromCache} from cache`;
}

/** The sentence under the search box when there are no results to show; null when there are. */
export function emptyStateText(v: TabView): string | null {
  if (v.unavailable) return null;
  const searching = v.query !== '' || v.similarTo !== null;
  if (v.pageUrl === '') return 'Looking for images on this page…';
  if (v.found === 0) return 'No images found on this page.';
  if (!searching) return null;
  if (v.results.length > 0) return null;
  if (v.pending > 0) return 'Indexing… results appear as images are processed.';
  if (v.indexed === 0) return 'None of the images on this page could be read (see below).';
  return 'No images to rank.';
}
