// The popup's say over indexing: a pause switch in the header, and when this page's images are not
// being indexed (paused, its site excluded, or not in the "only these sites" list) a line that says
// so with the button that changes it (Resume, Index this site, Add this site). Same settings as the
// options page (site-rules.ts); the background applies them.
import type { TabView } from '../messages';
import { loadSettings, onSettingsChanged, saveSettings, type Settings } from '../settings';
import { indexingOff, indexingOffText, normalizeSites, withoutSite } from '../site-rules';
import { siteOf } from '../store/pages';
import { t } from '../i18n';
import { describe } from '../errors';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface IndexingControl {
  render(view: TabView): void;
}

export function mountIndexingControl(onError: (text: string) => void): IndexingControl {
  const pause = $<HTMLButtonElement>('pause-indexing');
  const line = $('indexing-off');
  const text = $('indexing-off-text');
  const action = $<HTMLButtonElement>('indexing-off-action');
  let settings: Settings | null = null;
  let pageUrl = '';
  let change: Partial<Settings> = {};

  const save = (patch: Partial<Settings>) => saveSettings(patch).catch((error: unknown) => onError(t('optCouldNotSave', describe(error))));
  const show = () => {
    if (!settings) return;
    pause.hidden = false;
    pause.setAttribute('aria-pressed', String(settings.indexingPaused));
    const pauseLabel = settings.indexingPaused ? t('popupResumeIndexing') : t('popupPauseIndexing');
    pause.setAttribute('aria-label', pauseLabel);
    pause.title = pauseLabel;
    pause.textContent = settings.indexingPaused ? '▶' : '⏸';
    const off = indexingOff(pageUrl, settings);
    // Before the page reports its address only the pause can be told.
    const shown = off !== null && (off.reason === 'paused' || pageUrl !== '');
    line.hidden = !shown;
    line.dataset.reason = off?.reason ?? '';
    if (!off || !shown) return;
    text.textContent = indexingOffText(off);
    if (off.reason === 'paused') {
      action.textContent = t('popupResume');
      change = { indexingPaused: false };
    } else if (off.reason === 'excluded') {
      action.textContent = t('popupIndexThisSite');
      change = { excludedSites: withoutSite(settings.excludedSites, pageUrl) };
    } else {
      action.textContent = t('popupAddThisSite', off.site);
      change = { onlySites: normalizeSites([...settings.onlySites, siteOf(pageUrl)]) };
    }
    // Pages without a hostname cannot be listed: only the settings page can change that.
    action.hidden = off.reason === 'not-listed' && off.site === '';
  };

  pause.addEventListener('click', () => settings && void save({ indexingPaused: !settings.indexingPaused }));
  action.addEventListener('click', () => void save(change));
  onSettingsChanged((next) => {
    settings = next;
    show();
  });
  loadSettings().then(
    (loaded) => {
      settings = loaded;
      show();
    },
    (error: unknown) => onError(t('optCouldNotLoad', describe(error))),
  );
  return {
    render(view) {
      pageUrl = view.pageUrl;
      show();
    },
  };
}
