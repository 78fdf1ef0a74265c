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
  box.classList.toggle('error', phase === 'error' || (phase === 'ready' && !!model.switchFailure));
  box.dataset.phase = phase;
  // Built apart, then merged into what is shown (see showNodes).
  const built = document.createElement('div');
  let share: number | null = null;
  if (phase === 'confirm') {
    if (declined === model.id) {
      built.append(
        text(t('modelsDeclined', model.label)),
        button(confirmButtonText(model), 'model-download', (b) => send({ type: 'model-download', id: model.id }, b, box)),
      );
    } else {
      built.append(
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
    built.append(
      text(t('modelsDownloading', model.label, bytesText(loaded, total))),
      button(t('modelsCancel'), 'model-cancel', (b) => send({ type: 'model-cancel' }, b, box)),
      text(t('modelsCancelKeepsBytes'), 'model-note'),
    );
    share = downloadShare(loaded, total);
  } else if (phase === 'loading') {
    built.append(text(startingText(model.label, model.step, model.stepSince)));
    // A sign of life between the host's steps: the seconds count on (in the line shown, which a
    // line of the same shape kept).
    ticker = setInterval(() => {
      const line = box.querySelector('[data-testid=model-text]');
      if (line) line.textContent = startingText(model.label, model.step, model.stepSince);
    }, 1000);
  } else if (phase === 'error') {
    built.append(...failureNodes({ message: model.error ?? t('modelsStartFailed', model.label), detail: model.errorDetail ?? '' }));
    built.append(button(t('modelsRetry'), 'retry', (b) => {
      b.disabled = true;
      onRetry();
    }));
  } else if (phase === 'ready' && model.switching) {
    const s = model.switching;
    built.append(
      text(t('modelsSwitchDownloading', s.label, bytesText(s.loaded, s.total), model.label)),
      button(t('modelsCancel'), 'model-cancel', (b) => send({ type: 'model-cancel' }, b, box)),
    );
  } else if (phase === 'ready' && model.switchFailure) {
    const f = model.switchFailure;
    built.append(...failureNodes({ message: t('modelsSwitchFailed', f.label, model.label, f.message), detail: f.detail }));
  }
  showNodes(box, [...built.childNodes], shapeOf(model));
  box.hidden = box.childNodes.length === 0;
  return share;
}

/** What decides the line's controls: the same shape keeps them, only the texts change. */
function shapeOf(model: ModelStatus): string {
  return JSON.stringify([model.phase, model.id, declined === model.id, model.downloadBytes ?? null, !!model.switching, model.switchFailure ?? null, model.error ?? null]);
}

/**
 * Status pushes come several times a second while a download runs. Rebuilding the line each time
 * would replace the Cancel button under a pointer or keyboard focus (a click between press and
 * release is lost) and fold an opened detail again: a line of the same shape keeps its elements
 * and takes the new texts only.
 */
function showNodes(box: HTMLElement, nodes: Node[], shape: string): void {
  const kept = [...box.childNodes];
  const same = box.dataset.shape === shape && kept.length === nodes.length && nodes.every((node, i) => node.nodeName === kept[i].nodeName);
  box.dataset.shape = shape;
  if (!same) return box.replaceChildren(...nodes);
  nodes.forEach((node, i) => {
    if (node instanceof HTMLSpanElement && kept[i].textContent !== node.textContent) kept[i].textContent = node.textContent;
  });
}

function confirmButtonText(model: ModelStatus): string {
  return model.downloadBytes ? t('modelsDownloadSized', model.label, bytesText(model.downloadBytes, null)) : t('modelsDownload');
}
