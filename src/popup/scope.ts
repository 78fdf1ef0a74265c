// The popup's scope switch, "This page / Open tabs / Everything seen", and how results from
// other pages look and behave: the page's title and favicon under the picture, a click opens
// that page (and shows the picture on it), a small menu forgets the page or its site. Turning
// history on here offers background indexing; pages of another model can be re-embedded.
// Self-contained: popup.ts mounts it, passes each view to render(), and decorates each result.
//
//   const scope = mountScope(form, rerun);   scope.value() → 'page' | 'tabs' | 'all'
//   scope.render(view);                      decorateResults(resultsList, view.results);
import { backgroundIndexingOffer } from '../options/background-indexing-offer';
import type { MemoryView, SearchResult, SearchScope, TabView } from '../messages';
import { SEARCH_SCOPES } from '../messages';
import { sendRequest } from '../send-request';
import { saveSettings } from '../settings';
import { formatNumber, t, tn, type MessageKey } from '../i18n';

const LABELS: Record<SearchScope, MessageKey> = { page: 'popupScopePage', tabs: 'popupScopeTabs', all: 'popupScopeAll' };

export interface ScopeSwitch {
  value(): SearchScope;
  render(view: TabView): void;
}

/** Adds the switch and its status line after `anchor`; `rerun` searches again with the new scope. */
export function mountScope(anchor: HTMLElement, rerun: () => void): ScopeSwitch {
  const select = document.createElement('select');
  select.setAttribute('data-testid', 'scope');
  select.setAttribute('aria-label', t('popupScopeLabel'));
  select.append(...SEARCH_SCOPES.map((s) => new Option(t(LABELS[s]), s)));
  const status = document.createElement('p');
  status.className = 'hint scope-status';
  status.setAttribute('data-testid', 'scope-status');
  status.hidden = true;
  anchor.after(select, status);

  let fromView = false;
  let historyEnabled = false;
  select.addEventListener('change', () => {
    fromView = true; // the person chose: views no longer set it
    renderStatus(null);
    rerun();
  });

  function offerHistory(): void {
    const explain = document.createElement('span');
    explain.textContent = t('popupHistoryOff');
    const enable = document.createElement('button');
    enable.type = 'button';
    enable.textContent = t('popupHistoryEnable');
    enable.setAttribute('data-testid', 'enable-history');
    enable.addEventListener('click', async () => {
      enable.disabled = true;
      await saveSettings({ historyEnabled: true });
      // Offered right where history was chosen; it stays until answered (views re-render the status line).
      const offer = await backgroundIndexingOffer();
      if (offer) status.after(offer);
      rerun();
    });
    status.replaceChildren(explain, ' ', enable);
    status.hidden = false;
  }

  function renderStatus(view: TabView | null): void {
    const memory = view?.memory;
    const scope = select.value as SearchScope;
    status.replaceChildren();
    status.hidden = true;
    status.classList.toggle('error', !!view?.storage.error);
    if (view?.storage.error) {
      status.textContent = t('popupStorageProblem', view.storage.error.message);
      status.hidden = false;
      return;
    }
    if (scope !== 'all') return;
    if (!historyEnabled) return offerHistory();
    const parts: string[] = [];
    if (memory?.loading) parts.push(t('popupMemoryLoading'));
    if (memory?.error) parts.push(memory.error);
    status.textContent = parts.join(' ');
    const reembed = memory ? reembedStatus(memory) : null;
    if (reembed) status.append(parts.length ? ' ' : '', reembed);
    status.hidden = parts.length === 0 && !reembed;
  }

  return {
    value: () => select.value as SearchScope,
    render(view) {
      if (!fromView) select.value = view.memory.scope;
      fromView = true;
      historyEnabled = view.memory.historyEnabled;
      renderStatus(view);
    },
  };
}

/**
 * Pages of another model: how many, the offer to re-embed them, the job's progress and its
 * outcome (`[data-testid=reembed]`, with data-state, data-done, data-total, data-unreachable).
 */
function reembedStatus(memory: MemoryView): HTMLElement | null {
  const job = memory.reembed;
  if (!job && !memory.otherModelPages) return null;
  const box = document.createElement('span');
  box.setAttribute('data-testid', 'reembed');
  box.dataset.state = job?.state ?? 'none';
  const button = (label: string, testid: string, action: 'start' | 'cancel') => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('data-testid', testid);
    b.addEventListener('click', () => {
      b.disabled = true;
      sendRequest({ type: 'reembed', action }).catch((error: Error) => {
        b.disabled = false;
        b.title = error.message;
        box.append(' ', error.message);
      });
    });
    return b;
  };
  const text = (s: string) => {
    const span = document.createElement('span');
    span.textContent = s;
    return span;
  };
  if (job) {
    box.dataset.done = String(job.pagesDone);
    box.dataset.total = String(job.pagesTotal);
    box.dataset.unreachable = String(job.unreachable);
  }
  const running = job && (job.state === 'running' || job.state === 'paused');
  if (running) {
    const progress = text(t('memoryReembedProgress', formatNumber(job.pagesDone), formatNumber(job.pagesTotal)));
    progress.setAttribute('role', 'status');
    box.append(progress, job.state === 'paused' ? ` ${t('memoryReembedPaused')} ` : ' ', button(t('memoryReembedCancel'), 'reembed-cancel', 'cancel'));
  } else if (job) {
    const outcome =
      job.state === 'done'
        ? tn('memoryReembedDone', job.pagesDone, formatNumber(job.pagesDone))
        : job.state === 'cancelled'
          ? t('memoryReembedCancelled', formatNumber(job.pagesDone), formatNumber(job.pagesTotal))
          : t('memoryReembedFailed', job.error ?? '');
    box.append(text(outcome));
  }
  if (job && !running && job.unreachable > 0) box.append(' ', text(tn('memoryReembedUnreachable', job.unreachable, formatNumber(job.unreachable))));
  if (!running && memory.otherModelPages > 0) {
    const count = text(tn('memoryOtherModelPages', memory.otherModelPages, formatNumber(memory.otherModelPages)));
    count.setAttribute('data-testid', 'other-model-pages');
    count.dataset.count = String(memory.otherModelPages);
    const start = button(t('memoryReembedStart'), 'reembed-start', 'start');
    start.title = t('memoryReembedExplain');
    box.append(job ? ' ' : '', count, ' ', start);
  }
  return box;
}

/** Marks the tiles of results from other pages (each once; tiles are kept across views). */
export function decorateResults(list: HTMLElement, results: readonly SearchResult[]): void {
  const byUrl = new Map(results.filter((r) => r.pageUrl).map((r) => [r.url, r]));
  for (const li of list.querySelectorAll<HTMLLIElement>('li[data-testid=result]')) {
    const r = byUrl.get(li.dataset.src ?? '');
    if (r && li.dataset.pageUrl !== r.pageUrl) decorateResult(li, r);
  }
}

/** Marks a result of another page: where it was seen, and a click that opens that page. */
function decorateResult(li: HTMLLIElement, r: SearchResult): void {
  if (!r.pageUrl || li.dataset.pageUrl) return;
  const pageUrl = r.pageUrl;
  li.dataset.pageUrl = pageUrl;
  li.classList.add('other-page');
  li.title = `${r.pageTitle || pageUrl}\n${t('popupOpenResultPage')}`;
  const source = document.createElement('div');
  source.className = 'source';
  if (r.favicon) {
    const icon = document.createElement('img');
    icon.className = 'favicon';
    icon.alt = '';
    icon.referrerPolicy = 'no-referrer';
    icon.src = r.favicon;
    source.append(icon);
  }
  const title = document.createElement('span');
  title.setAttribute('data-testid', 'result-page');
  title.textContent = r.pageTitle || pageUrl;
  source.append(title);

  const menu = document.createElement('details');
  menu.className = 'forget';
  const summary = document.createElement('summary');
  summary.textContent = '⋯';
  summary.title = t('popupForgetMenu');
  const forget = (what: 'page' | 'site', label: string) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = label;
    button.setAttribute('data-testid', `forget-${what}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await sendRequest({ type: 'forget', what, pageUrl });
        li.remove();
      } catch (error) {
        button.textContent = t('popupForgetFailed', (error as Error).message);
      }
    });
    return button;
  };
  menu.append(summary, forget('page', t('popupForgetPage')), forget('site', t('popupForgetSite')));
  li.append(source, menu);

  // Capture phase: the popup's own handler would reveal the picture on the current page.
  const open = (event: Event) => {
    if (menu.contains(event.target as Node) || (event.target as HTMLElement).closest('button')) return;
    event.stopImmediatePropagation();
    sendRequest({ type: 'open-result', pageUrl, url: r.url }).catch(() => li.classList.add('missing'));
  };
  li.addEventListener('click', open, true);
  li.addEventListener('keydown', (event) => event.key === 'Enter' && open(event), true);
}
