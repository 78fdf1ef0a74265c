// The popup's list of images that could not be indexed: every one, each with its address
// (data-src) and the reason in words, in a collapsible section. And, when the page shows more
// images than its frames could list, how many were listed of how many.
import type { TabView } from '../messages';

const $ = (id: string) => document.getElementById(id) as HTMLElement;

/** The last list drawn: views arrive every few hundred ms while indexing, mostly with the same failures. */
let drawn = '';

export function renderFailures(v: Pick<TabView, 'errors' | 'failed'>): void {
  const section = $('errors');
  section.hidden = v.errors.length === 0;
  $('errors-summary').textContent = `${v.failed.toLocaleString('en')} image${v.failed === 1 ? '' : 's'} could not be indexed`;
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
      reason.textContent = e.error;
      const address = document.createElement('span');
      address.className = 'failed-src';
      // Long inline images would fill the list with base64.
      address.textContent = e.url.startsWith('data:') ? 'inline image' : e.url;
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
  return `${listed.toLocaleString('en')} of ${(listed + v.omitted).toLocaleString('en')} images listed: the page shows more than can be indexed at once`;
}
