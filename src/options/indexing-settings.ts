// The options page's "Indexing" section: the pause switch, when pages are indexed (when asked, or
// every page as it loads: the one setting that decides it), which sites (all but the excluded
// ones, or only the listed ones). Every change saves at once, like the pause switch in the popup;
// the background applies it (site-rules.ts).
import { loadSettings, onSettingsChanged, saveSettings, type Settings } from '../settings';
import { normalizeSites, type SiteMode } from '../site-rules';
import { t } from '../i18n';
import { describe } from '../errors';

/** Typing pauses this long before a list saves: each save also writes storage.sync, which allows 120 writes a minute. */
const SAVE_DELAY_MS = 800;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const radios = (name: string) => [...document.querySelectorAll<HTMLInputElement>(`input[type=radio][name=${name}]`)];

export async function mountIndexingSettings(): Promise<void> {
  const paused = $<HTMLInputElement>('indexing-paused');
  const only = $<HTMLTextAreaElement>('only-sites');
  const excluded = $<HTMLTextAreaElement>('excluded-sites');
  const status = $('indexing-status');

  const save = async (patch: Partial<Settings>) => {
    try {
      const next = await saveSettings(patch);
      status.textContent = next.siteMode === 'only' && next.onlySites.length === 0 ? t('optOnlyModeEmpty') : t('optSaved');
    } catch (error) {
      status.textContent = t('optCouldNotSave', describe(error));
    }
  };
  const show = (s: Settings) => {
    paused.checked = s.indexingPaused;
    for (const radio of radios('index-when')) radio.checked = (radio.value === 'background') === s.indexInBackground;
    for (const radio of radios('site-mode')) radio.checked = radio.value === s.siteMode;
    // A list being typed into keeps its text; it is rewritten in its normal form once left.
    if (document.activeElement !== only) only.value = s.onlySites.join('\n');
    if (document.activeElement !== excluded) excluded.value = s.excludedSites.join('\n');
    only.disabled = s.siteMode !== 'only';
  };

  paused.addEventListener('change', () => void save({ indexingPaused: paused.checked }));
  for (const radio of radios('index-when')) radio.addEventListener('change', () => void save({ indexInBackground: radio.value === 'background' }));
  for (const radio of radios('site-mode')) radio.addEventListener('change', () => void save({ siteMode: radio.value as SiteMode }));
  for (const [field, key] of [[only, 'onlySites'], [excluded, 'excludedSites']] as const) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    field.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void save({ [key]: normalizeSites(field.value.split('\n')) }), SAVE_DELAY_MS);
    });
    field.addEventListener('change', () => {
      clearTimeout(timer);
      void save({ [key]: normalizeSites(field.value.split('\n')) }).then(loadSettings).then(show);
    });
  }
  // The popup's pause button and other devices (storage.sync) change these too.
  onSettingsChanged(show);
  show(await loadSettings());
}
