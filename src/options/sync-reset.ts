// The options page's "Sync and reset" section: whether preferences follow the person through
// storage.sync (and why not, when they do not), and resetting every setting to its default after
// a confirmation that says what stays (caches, history, label sets).
import browser from 'webextension-polyfill';
import { resetSettings } from '../settings';
import { loadSyncStatus, STATUS_KEY, type SyncStatus } from '../settings-sync';
import { t } from '../i18n';
import { describe } from '../errors';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function syncText(status: SyncStatus | null): string {
  if (!status) return t('optSyncUnknown');
  if (status.state === 'synced') return t('optSyncOn');
  if (status.state === 'partial') return t('optSyncPartial', status.detail ?? '');
  return t('optSyncOff', status.detail ?? '');
}

export function mountSyncAndReset(afterReset: () => Promise<void>): void {
  const line = $('sync-status');
  const showStatus = () =>
    loadSyncStatus(browser.storage.local).then(
      (status) => (line.textContent = syncText(status)),
      (error: unknown) => (line.textContent = t('optSyncOff', describe(error))),
    );
  browser.storage.onChanged.addListener((changes, area) => {
    if (area === 'local' && changes[STATUS_KEY]) void showStatus();
  });
  void showStatus();

  const ask = $('reset-confirm');
  const button = $<HTMLButtonElement>('reset-settings');
  const message = $('reset-message');
  button.addEventListener('click', () => {
    ask.hidden = false;
    $('reset-no').focus();
  });
  $('reset-no').addEventListener('click', () => {
    ask.hidden = true;
    button.focus();
  });
  $('reset-yes').addEventListener('click', async () => {
    ask.hidden = true;
    button.focus();
    try {
      await resetSettings();
      await afterReset();
      message.textContent = t('optResetDone');
    } catch (error) {
      message.textContent = t('optCouldNotSave', describe(error));
    }
  });
}
