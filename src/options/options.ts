// Options page: settings live in storage.local, preferences mirrored to storage.sync (see
// src/settings.ts, src/settings-sync.ts); the background reacts to changes.
//   indexing-settings.ts  pause, when to index, which sites
//   sync-reset.ts         sync state, reset to defaults
//   models.ts             the models: download, use, delete
//   label-sets.ts         labels for Classify
//   memory-settings.ts    the visual memory
import { attachLabelSets } from './label-sets';
import { loadSettings, saveSettings, type BackendPreference, type PopupSize } from '../settings';
import { sendRequest } from '../send-request';
import { mountMemorySettings } from './memory-settings'; // visual memory
import { mountModels, type ModelsSection } from './models';
import { mountIndexingSettings } from './indexing-settings';
import { mountSyncAndReset } from './sync-reset';
import { formatNumber, localizeDocument, t } from '../i18n';
import { describe } from '../errors';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const backend = $<HTMLSelectElement>('backend');
const baseUrl = $<HTMLInputElement>('base-url');
const minSize = $<HTMLInputElement>('min-size');
const skipTracking = $<HTMLInputElement>('skip-tracking');
const mergeDuplicates = $<HTMLInputElement>('merge-duplicates');
const popupSize = $<HTMLSelectElement>('popup-size');
const saved = $('saved');

async function showCacheStats(): Promise<void> {
  try {
    const stats = await sendRequest({ type: 'cache-stats' });
    $('cache-stats').textContent = t('optCacheStats', formatNumber(stats.embeddings), formatNumber(stats.urls));
  } catch (error) {
    $('cache-stats').textContent = t('optCacheStatsFailed', describe(error));
  }
}

let models: ModelsSection | undefined;
const chosenModel = () => models?.chosenId() ?? '';

/** The form's fields from the stored settings (at start, and after a reset). */
async function fillForm(): Promise<void> {
  const settings = await loadSettings();
  backend.value = settings.backend;
  baseUrl.value = settings.modelBaseUrl;
  minSize.value = String(settings.minImageSize);
  skipTracking.checked = settings.skipTrackingPixels;
  mergeDuplicates.checked = settings.mergeDuplicates;
  popupSize.value = settings.popupSize;
}

async function init(): Promise<void> {
  models = await mountModels($('models'));
  await fillForm();
  await attachLabelSets(chosenModel);
  await showCacheStats();
}

$('settings').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await saveSettings({
      backend: backend.value as BackendPreference,
      modelBaseUrl: baseUrl.value,
      minImageSize: Number(minSize.value),
      skipTrackingPixels: skipTracking.checked,
      mergeDuplicates: mergeDuplicates.checked,
      popupSize: popupSize.value as PopupSize,
    });
    saved.textContent = t('optSaved');
  } catch (error) {
    saved.textContent = t('optCouldNotSave', describe(error));
  }
  setTimeout(() => (saved.textContent = ''), 2500);
});

$('clear-cache').addEventListener('click', async () => {
  await sendRequest({ type: 'clear-cache' }).catch((error: unknown) => alert(t('optClearCacheFailed', describe(error))));
  await attachLabelSets(chosenModel);
  await showCacheStats();
});

localizeDocument();
mountIndexingSettings().catch((error: unknown) => ($('indexing-status').textContent = t('optCouldNotLoad', describe(error))));
mountSyncAndReset(fillForm);
mountMemorySettings($('memory')).catch((error: unknown) => ($('memory').textContent = t('optMemoryFailed', describe(error)))); // visual memory

init().catch((error: unknown) => {
  saved.textContent = t('optCouldNotLoad', describe(error));
});
