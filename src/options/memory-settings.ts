// The options page's "Visual memory" section: history opt-in and excluded sites, the storage
// budget and URL retention, the space each store uses with a clear button each (for the
// persistent memory and the private windows' one), export and import of the memory, and the
// last storage error. Every change saves at once; the background applies it (memory.ts).
import { MEMORY_STORE_NAMES, type MemoryStoreName, type MemoryUsage } from '../messages';
import { sendRequest } from '../send-request';
import { t } from '../i18n';
import { loadSettings, saveSettings, type Settings } from '../settings';
import { backgroundIndexingOffer } from './background-indexing-offer';

const STORE_LABELS: Record<MemoryStoreName, string> = {
  embeddings: 'Image embeddings',
  urls: 'Image addresses',
  queries: 'Recent searches',
  pages: 'Pages (history)',
  thumbnails: 'Previews',
  get labels() {
    return t('memoryStoreLabels');
  },
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, testid?: string): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  if (testid) node.setAttribute('data-testid', testid);
  return node;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export async function mountMemorySettings(root: HTMLElement): Promise<void> {
  const settings = await loadSettings();
  const status = el('p', { role: 'status' }, 'memory-status');
  const save = async (patch: Partial<Settings>) => {
    try {
      await saveSettings(patch);
      status.textContent = 'Saved.';
    } catch (error) {
      status.textContent = `Could not save: ${(error as Error).message}`;
    }
  };

  const history = el('input', { type: 'checkbox', checked: settings.historyEnabled }, 'history-enabled');
  let offer: HTMLElement | null = null;
  history.addEventListener('change', async () => {
    await save({ historyEnabled: history.checked });
    offer?.remove();
    offer = null;
    if (!history.checked) return;
    // The options form's own checkbox shows the new value (its Save would otherwise write the old one back).
    const formCheckbox = document.querySelector<HTMLInputElement>('#index-in-background');
    offer = await backgroundIndexingOffer({ onAccepted: () => formCheckbox && (formCheckbox.checked = true) });
    if (offer) historyHelp.after(offer);
  });
  const historyLabel = el('label');
  historyLabel.append(history, ' Remember the pages whose images were indexed ("Everything seen" in the popup)');
  const historyHelp = el('p', {
    className: 'help',
    textContent:
      'Off by default. When on, each page whose images the extension indexed is kept on this device: its address, title, ' +
      'favicon, time of visit, and a small preview and embedding of each picture, so the popup can search every page seen. ' +
      'Nothing leaves your machine. Private windows are never recorded (they are kept in memory and dropped when the last one closes).',
  });

  const excluded = el('textarea', { rows: 3, value: settings.historyExcludedSites.join('\n') }, 'history-excluded');
  excluded.addEventListener('change', () => save({ historyExcludedSites: excluded.value.split('\n') }));
  const excludedLabel = el('label', { textContent: 'Never record these sites (one hostname per line; subdomains included)' });
  excluded.setAttribute('aria-label', excludedLabel.textContent ?? ''); // the label element does not wrap it

  const budget = el('input', { type: 'number', min: '1', step: '1', value: String(settings.memoryBudgetMB) }, 'memory-budget');
  budget.addEventListener('change', () => save({ memoryBudgetMB: Number(budget.value) }));
  const budgetLabel = el('label');
  budgetLabel.append('Storage budget ', budget, ' MB (least recently used embeddings, previews and pages go first)');

  const retention = el('input', { type: 'number', min: '0', step: '1', value: String(settings.urlRetentionDays) }, 'url-retention');
  retention.addEventListener('change', () => save({ urlRetentionDays: Number(retention.value) }));
  const retentionLabel = el('label');
  retentionLabel.append('Keep image addresses for ', retention, ' days (a known address is not downloaded again while its server says it is unchanged)');

  const usage = el('div', {}, 'memory-usage');
  const storageError = el('p', { className: 'error', hidden: true }, 'storage-error');

  const exportButton = el('button', { type: 'button', textContent: 'Export the memory' }, 'memory-export');
  exportButton.addEventListener('click', async () => {
    try {
      const { text } = await sendRequest({ type: 'memory-export' });
      const link = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/json' })), download: `mobileclip-lens-memory-${new Date().toISOString().slice(0, 10)}.json` });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      status.textContent = 'Exported.';
    } catch (error) {
      status.textContent = `Could not export: ${(error as Error).message}`;
    }
  });
  const importInput = el('input', { type: 'file', accept: 'application/json,.json' }, 'memory-import');
  importInput.addEventListener('change', async () => {
    const file = importInput.files?.[0];
    if (!file) return;
    try {
      const { added, skipped } = await sendRequest({ type: 'memory-import', text: await file.text() });
      status.textContent = `Imported: ${added} records added, ${skipped} already there.`;
    } catch (error) {
      status.textContent = `Could not import: ${(error as Error).message}`;
    }
    importInput.value = '';
    await refresh();
  });
  const importLabel = el('label');
  importLabel.append('Import a memory file (merges; what is already here is kept) ', importInput);

  function usageTable(title: string, u: MemoryUsage, isPrivate: boolean): HTMLElement {
    const table = el('table', {}, isPrivate ? 'usage-private' : 'usage-persistent');
    table.append(el('caption', { textContent: `${title}: ${formatBytes(u.totalBytes)} of ${formatBytes(u.budgetBytes)}` }));
    for (const name of MEMORY_STORE_NAMES) {
      const row = el('tr');
      row.dataset.store = name;
      const clear = el('button', { type: 'button', textContent: 'Clear' }, `clear-${isPrivate ? 'private-' : ''}${name}`);
      clear.addEventListener('click', async () => {
        clear.disabled = true;
        await sendRequest({ type: 'memory-clear', store: name, private: isPrivate }).catch((e: Error) => (status.textContent = `Could not clear: ${e.message}`));
        await refresh();
      });
      const cell = el('td');
      cell.append(clear);
      row.append(el('td', { textContent: STORE_LABELS[name] }), el('td', { textContent: `${u.stores[name].count} · ${formatBytes(u.stores[name].bytes)}` }), cell);
      table.append(row);
    }
    return table;
  }

  async function refresh(): Promise<void> {
    try {
      const answer = await sendRequest({ type: 'memory-usage' });
      usage.replaceChildren(usageTable('On this device', answer.persistent, false), ...(answer.private ? [usageTable('Private windows (in memory)', answer.private, true)] : []));
      const error = answer.storage.error;
      storageError.hidden = !error;
      storageError.textContent = error ? `Storage problem (${error.kind}) at ${new Date(error.at).toLocaleString()}: ${error.message}` : '';
    } catch (error) {
      usage.textContent = `Could not read the memory: ${(error as Error).message}`;
    }
  }

  const fieldset = el('fieldset');
  fieldset.append(el('legend', { textContent: 'Visual memory' }), historyLabel, historyHelp, excludedLabel, excluded, budgetLabel, retentionLabel);
  root.replaceChildren(fieldset, storageError, usage, exportButton, ' ', importLabel, status);
  await refresh();
}
