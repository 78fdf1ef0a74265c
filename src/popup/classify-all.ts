// "Label all images": every indexed image of the page under its most probable label, from the
// embeddings the index already holds. Groups, largest first, each collapsible with its count;
// a label set embedded for the first time shows its progress ("Embedding labels 340 / 7,000").
import { BUILT_IN_SETS, EVERYDAY_SET_ID } from '../engine/label-sets';
import { loadLabelSetChoice, saveLabelSetChoice } from '../label-set-store';
import type { PageClassification } from '../messages';
import { sendRequest } from '../send-request';
import { describe } from '../errors';
import { showThumbnail } from './thumbnail';
import { formatNumber, formatPercent, t, tn } from '../i18n';

const PROGRESS_POLL_MS = 400;
/** A set embedding starts a moment after the request: look once early, then every PROGRESS_POLL_MS. */
const FIRST_POLL_MS = 100;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function labelProgressText(done: number, total: number): string {
  return t('popupLabelProgress', formatNumber(done), formatNumber(total));
}

/** A label set's name as shown: the built-in everyday set's in the UI language, others as named. */
export function labelSetName(set: { id: string; name: string }): string {
  return set.id === EVERYDAY_SET_ID ? t('labelSetEveryday') : set.name;
}

export async function attachClassifyAll(tabId: number, reveal: (url: string) => void): Promise<void> {
  const select = $<HTMLSelectElement>('label-set');
  const button = $<HTMLButtonElement>('classify-all');
  const status = $<HTMLParagraphElement>('classify-status');
  const groups = $<HTMLElement>('groups');
  const choice = await loadLabelSetChoice();
  select.replaceChildren(...[...BUILT_IN_SETS, ...choice.user].map((s) => new Option(labelSetName(s), s.id)));
  select.value = [...select.options].some((o) => o.value === choice.active) ? choice.active : BUILT_IN_SETS[0].id;
  select.addEventListener('change', () => {
    void loadLabelSetChoice().then((c) => saveLabelSetChoice({ ...c, active: select.value })).catch(() => undefined);
  });
  $('groups-close').addEventListener('click', () => {
    groups.hidden = true;
    status.hidden = true;
  });

  button.addEventListener('click', async () => {
    button.disabled = true;
    status.hidden = false;
    status.classList.remove('error');
    status.textContent = t('popupLabelling');
    // The request answers when done; meanwhile a new label set's embedding shows its progress.
    const showProgress = async () => {
      const { jobs } = await sendRequest({ type: 'label-progress' }).catch(() => ({ jobs: [] }));
      const job = jobs.find((j) => j.setId === select.value);
      if (job && button.disabled) status.textContent = t('popupLabelProgressOnce', labelProgressText(job.done, job.total), labelSetName({ id: job.setId, name: job.name }));
    };
    const poll = setInterval(showProgress, PROGRESS_POLL_MS);
    setTimeout(showProgress, FIRST_POLL_MS);
    try {
      const { classification } = await sendRequest({ type: 'classify-page', tabId, setId: select.value });
      renderGroups(groups, classification, tabId, reveal);
      status.textContent = summary(classification);
    } catch (error) {
      status.classList.add('error');
      status.textContent = t('popupLabelFailed', describe(error));
    } finally {
      clearInterval(poll);
      button.disabled = false;
    }
  });
}

function summary(c: PageClassification): string {
  const labelled = c.groups.reduce((n, g) => n + g.images.length, 0);
  const rest = c.notIndexed ? t('popupNotIndexedYet', formatNumber(c.notIndexed)) : '';
  const groups = tn('popupGroupCount', c.groups.length, formatNumber(c.groups.length));
  return tn('popupLabelSummary', labelled, formatNumber(labelled), groups, labelSetName({ id: c.setId, name: c.setName }), rest);
}

function renderGroups(container: HTMLElement, c: PageClassification, tabId: number, reveal: (url: string) => void): void {
  const list = $('group-list');
  list.replaceChildren(
    ...c.groups.map((group) => {
      const details = document.createElement('details');
      details.open = true;
      details.className = 'group';
      details.dataset.testid = 'group';
      details.dataset.label = group.label;
      details.dataset.count = String(group.images.length);
      const title = document.createElement('summary');
      const name = document.createElement('span');
      name.textContent = group.label;
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = formatNumber(group.images.length);
      title.append(name, ' ', count);
      const images = document.createElement('ul');
      images.className = 'group-images';
      for (const image of group.images) {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.src = image.url;
        b.title = t('popupGroupImageTitle', group.label, formatPercent(image.probability));
        b.setAttribute('aria-label', b.title);
        b.addEventListener('click', () => reveal(image.url));
        const img = document.createElement('img');
        img.alt = '';
        showThumbnail(img, tabId, image.url, !!image.preview);
        b.append(img);
        li.append(b);
        images.append(li);
      }
      details.append(title, images);
      return details;
    }),
  );
  container.hidden = false;
}
