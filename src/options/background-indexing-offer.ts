// The offer that comes with turning history on: "also index pages in the background as I
// browse", explained, with accept and decline. A history of only the pages where the popup was
// opened is thin; background indexing fills it, so the choice is put where history is chosen
// (the options page's checkbox and the popup's first use of "Everything seen").
//
//   const offer = backgroundIndexingOffer({ onAccepted });   anchor.after(offer);   // shown only when it is off
import { t } from '../i18n';
import { loadSettings, saveSettings } from '../settings';

export async function backgroundIndexingOffer(options: { onAccepted?(): void } = {}): Promise<HTMLElement | null> {
  if ((await loadSettings()).indexInBackground) return null;
  const box = document.createElement('div');
  box.className = 'offer';
  box.setAttribute('role', 'group');
  box.setAttribute('data-testid', 'background-indexing-offer');
  const title = document.createElement('strong');
  title.textContent = t('memoryBackgroundOfferTitle');
  title.id = `background-offer-${Math.random().toString(36).slice(2)}`;
  box.setAttribute('aria-labelledby', title.id);
  const explain = document.createElement('p');
  explain.className = 'help';
  explain.textContent = t('memoryBackgroundOfferExplain');
  const accept = document.createElement('button');
  accept.type = 'button';
  accept.textContent = t('memoryBackgroundOfferAccept');
  accept.setAttribute('data-testid', 'accept-background-indexing');
  const decline = document.createElement('button');
  decline.type = 'button';
  decline.textContent = t('memoryBackgroundOfferDecline');
  decline.setAttribute('data-testid', 'decline-background-indexing');
  const result = document.createElement('p');
  result.setAttribute('role', 'status');

  accept.addEventListener('click', async () => {
    accept.disabled = decline.disabled = true;
    try {
      await saveSettings({ indexInBackground: true });
      box.replaceChildren(result);
      result.textContent = t('memoryBackgroundOfferAccepted');
      options.onAccepted?.();
    } catch (error) {
      accept.disabled = decline.disabled = false;
      result.className = 'error';
      result.textContent = (error as Error).message;
      box.append(result);
    }
  });
  decline.addEventListener('click', () => box.remove());
  box.append(title, explain, accept, ' ', decline);
  return box;
}
