// Options page: settings live in storage.local (see src/settings.ts); the background reacts to changes.
import { attachLabelSets } from './label-sets';
import { loadSettings, saveSettings, type BackendPreference, type PopupSize } from '../settings';
import { sendRequest } from '../send-request';
import { mountMemorySettings } from './memory-settings'; // visual memory
import { mountModels, type ModelsSection } from './models';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const backend = $<HTMLSelectElement>('backend');
const baseUrl = $<HTMLInputElement>('base-url');
const minSize = $<HTMLInputElement>('min-size');
const skipTracking = $<HTMLInputElement>('skip-tracking');
const mergeDuplicates = $<HTMLInputElement>('merge-duplicates');
const popupSize = $<HTMLSelectElement>('popup-size');
const indexInBackground = $<HTMLInputElement>('index-in-background');
const saved = $('saved');

async function showCacheStats(): Promise<void> {
  try {
    const stats = await sendRequest({ type: 'cache-stats' });
    $('cache-stats').textContent = `${stats.embeddings} image embeddings for ${stats.urls} image addresses are cached on this device.`;
  } catch (error) {
    $('cache-stats').textContent = `Could not read the cache: ${(error as Error).message}`;
  }
}

let models: ModelsSection | undefined;
const chosenModel = () => models?.chosenId() ?? '';

async function init(): Promise<void> {
  const settings = await loadSettings();
  models = await mountModels($('models'));
  backend.value = settings.backend;
  baseUrl.value = settings.modelBaseUrl;
  minSize.value = String(settings.minImageSize);
  skipTracking.checked = settings.skipTrackingPixels;
  mergeDuplicates.checked = settings.mergeDuplicates;
  popupSize.value = settings.popupSize;
  await attachLabelSets(chosenModel);
  indexInBackground.checked = settings.indexInBackground;
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
      indexInBackground: indexInBackground.checked,
    });
    saved.textContent = 'Saved.';
  } catch (error) {
    saved.textContent = `Could not save: ${(error as Error).message}`;
  }
  setTimeout(() => (saved.textContent = ''), 2500);
});

$('clear-cache').addEventListener('click', async () => {
  await sendRequest({ type: 'clear-cache' }).catch((error: Error) => alert(`Could not clear the cache: ${error.message}`));
  await attachLabelSets(chosenModel);
  await showCacheStats();
});

mountMemorySettings($('memory')).catch((error: Error) => ($('memory').textContent = `Could not show the memory settings: ${error.message}`)); // visual memory

init().catch((error: Error) => {
  saved.textContent = `Could not load settings: ${error.message}`;
});
