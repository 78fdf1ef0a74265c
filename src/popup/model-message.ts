// The popup's line about the model: asking before a download (first run included), the download
// with its bytes and Cancel, the start-up steps with a running count of seconds, failures with
// their folded detail and Retry, and a switch that is downloading or failed.
import type { ModelStatus } from '../messages';
import { sendRequest } from '../send-request';
import { t } from '../i18n';
import { bytesText, button, confirmText, downloadShare, failureNodes, startingText } from '../model-text';

/** The person chose Cancel at the question for this model: the line says so, with a way back. */
let declined: string | null = null;
/** Re-renders the seconds of a start-up that sends no news for a while. */
let ticker: ReturnType<typeof setInterval> | undefined;

function text(content: string, testId = 'model-text'): HTMLSpanElement {
  const span = document.createElement('span');
  span.dataset.testid = testId;
  span.textContent = content;
  return span;
}

function send(message: Parameters<typeof sendRequest>[0], control: HTMLButtonElement, box: HTMLElement): void {
  control.disabled = true;
  sendRequest(message).catch((error: Error) => {
    box.replaceChildren(...failureNodes({ message: t('modelsRequestFailed'), detail: error.message }));
  });
}

/**
 * Fills the model message for this status; returns the download's share for the progress bar
 * while one runs (else null: the bar shows indexing).
 */
export function renderModelMessage(box: HTMLElement, model: ModelStatus, onRetry: () => void): number | null {
  clearInterval(ticker);
  const { phase } = model;
  box.replaceChildren();
  box.classList.toggle('error', phase === 'error' || (phase === 'ready' && !!model.switchFailure));
  box.dataset.phase = phase;
  box.hidden = true;
  let share: number | null = null;
  if (phase === 'confirm') {
    if (declined === model.id) {
      box.append(
        text(t('modelsDeclined', model.label)),
        button(confirmButtonText(model), 'model-download', (b) => send({ type: 'model-download', id: model.id }, b, box)),
      );
    } else {
      box.append(
        text(confirmText(model.label, model.downloadBytes)),
        button(t('modelsDownload'), 'model-download', (b) => send({ type: 'model-download', id: model.id }, b, box)),
        button(t('modelsCancel'), 'model-decline', () => {
          declined = model.id;
          renderModelMessage(box, model, onRetry);
        }),
      );
    }
  } else if (phase === 'downloading') {
    declined = null;
    const loaded = model.downloaded?.loaded ?? 0;
    const total = model.downloaded?.total ?? null;
    box.append(
      text(t('modelsDownloading', model.label, bytesText(loaded, total))),
      button(t('modelsCancel'), 'model-cancel', (b) => send({ type: 'model-cancel' }, b, box)),
      text(t('modelsCancelKeepsBytes'), 'model-note'),
    );
    share = downloadShare(loaded, total);
  } else if (phase === 'loading') {
    const line = text(startingText(model.label, model.step, model.stepSince));
    box.append(line);
    // A sign of life between the host's steps: the seconds count on.
    ticker = setInterval(() => (line.textContent = startingText(model.label, model.step, model.stepSince)), 1000);
  } else if (phase === 'error') {
    box.append(...failureNodes({ message: model.error ?? t('modelsStartFailed', model.label), detail: model.errorDetail ?? '' }));
    box.append(button(t('modelsRetry'), 'retry', (b) => {
      b.disabled = true;
      onRetry();
    }));
  } else if (phase === 'ready' && model.switching) {
    const s = model.switching;
    box.append(
      text(t('modelsSwitchDownloading', s.label, bytesText(s.loaded, s.total), model.label)),
      button(t('modelsCancel'), 'model-cancel', (b) => send({ type: 'model-cancel' }, b, box)),
    );
  } else if (phase === 'ready' && model.switchFailure) {
    const f = model.switchFailure;
    box.append(...failureNodes({ message: t('modelsSwitchFailed', f.label, model.label, f.message), detail: f.detail }));
  }
  box.hidden = box.childNodes.length === 0;
  return share;
}

function confirmButtonText(model: ModelStatus): string {
  return model.downloadBytes ? t('modelsDownloadSized', model.label, bytesText(model.downloadBytes, null)) : t('modelsDownload');
}
