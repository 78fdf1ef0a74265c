// The popup's list of images that could not be indexed: every one, each with its address
// (data-src) and the reason in words, in a collapsible section. And, when the page shows more
// images than its frames could list, how many were listed of how many.
import type { FailureReason, TabView } from '../messages';
import { formatNumber, t, tn, type MessageKey } from '../i18n';

const $ = (id: string) => document.getElementById(id) as HTMLElement;

/** The short sentence for each reason; the background's technical detail follows it. */
const REASON_TEXT: Record<FailureReason, MessageKey> = {
  model: 'popupFailureModel',
  'needs-visible-tab': 'popupFailureNeedsVisibleTab',
  fetch: 'popupFailureFetch',
  decode: 'popupFailureDecode',
  inference: 'popupFailureInference',
  timeout: 'popupFailureTimeout',
  unexpected: 'popupFailureUnexpected',
};

/** The last list drawn: views arrive every few hundred ms while indexing, mostly with the same failures. */
let drawn = '';

export function renderFailures(v: Pick<TabView, 'errors' | 'failed'>): void {
  const section = $('errors');
  section.hidden = v.errors.length === 0;
  $('errors-summary').textContent = tn('popupFailedSummary', v.failed, formatNumber(v.failed));
  const key = JSON.stringify(v.errors);
  if (key === drawn) return;
  drawn = key;
  $('error-list').replaceChildren(
    ...v.errors.map((e) => {
      const li = document.createElement('li');
      const reason = document.createElement('span');
      reason.setAttribute('data-testid', 'failed');
      reason.dataset.src = e.url;
      reason.dataset.reason = e.reason;
      // The detail (an HTTP status, a decoder's words) stays as the background wrote it.
      const detail = document.createElement('span');
      detail.className = 'failed-detail';
      detail.lang = 'en';
      detail.textContent = e.error;
      reason.append(t(REASON_TEXT[e.reason]), ': ', detail);
      const address = document.createElement('span');
      address.className = 'failed-src';
      // Long inline images would fill the list with base64.
      address.textContent = e.url.startsWith('data:') ? t('popupInlineImage') : e.url;
      address.title = e.url.startsWith('data:') ? '' : e.url;
      li.append(reason, address);
      return li;
    }),
  );
}

/** "10,000 of 12,345 images listed" when frames listed fewer than they show; null when all are. */
export function omittedText(v: Pick<TabView, 'found' | 'merged' | 'omitted'>): string | null {
  if (v.omitted <= 0) return null;
  const listed = v.found + v.merged;
  return t('popupOmitted', formatNumber(listed), formatNumber(listed + v.omitted));
}
