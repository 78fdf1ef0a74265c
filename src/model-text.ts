// Words and small pieces of DOM about model downloads that the popup and the options page share:
// the confirmation, byte progress, start-up steps and a failure with its folded detail.
import type { LoadingStep, ModelFailure } from './messages';
import { formatBytes, formatNumber, t } from './i18n';

/** "Download MobileCLIP-S0 (90.1 MB) to run on this device?" (the size is the registry's estimate). */
export function confirmText(label: string, bytes: number | null | undefined): string {
  return bytes ? t('modelsConfirmDownload', label, formatBytes(bytes)) : t('modelsConfirmDownloadUnknownSize', label);
}

/** "12.3 of 45.6 MB" (the total once known), else "12.3 MB" so far. */
export function bytesText(loaded: number, total: number | null | undefined): string {
  return total ? t('modelsBytesOf', formatBytes(loaded), formatBytes(total)) : formatBytes(loaded);
}

/** The bar's share: below 1 until the last byte is in, so a download that fails is never shown full. */
export function downloadShare(loaded: number, total: number | null | undefined): number {
  if (!total) return 0;
  return loaded >= total ? 1 : Math.min(loaded / total, 0.999);
}

const STEP_KEYS = {
  checking: 'modelsStepChecking',
  'reading-files': 'modelsStepReadingFiles',
  'starting-sessions': 'modelsStepStartingSessions',
  'vision-session': 'modelsStepVisionSession',
  'text-session': 'modelsStepTextSession',
  'warming-up': 'modelsStepWarmingUp',
} as const;

/** "Starting MobileCLIP-S0… (reading the model files, 4 s)". */
export function startingText(label: string, step: LoadingStep | null | undefined, since: number | null | undefined, now = Date.now()): string {
  const what = t(STEP_KEYS[step ?? 'checking']);
  const seconds = since ? Math.max(0, Math.round((now - since) / 1000)) : 0;
  return t('modelsStarting', label, what, formatNumber(seconds));
}

/** A button with a test id (text from t()). */
export function button(text: string, testId: string, onClick: (button: HTMLButtonElement) => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.dataset.testid = testId;
  b.addEventListener('click', () => onClick(b));
  return b;
}

/** The technical side of a failure (URL, status), folded: `<details>` with the text as text, never HTML. */
export function detailsElement(detail: string): HTMLDetailsElement {
  const details = document.createElement('details');
  details.dataset.testid = 'error-detail';
  const summary = document.createElement('summary');
  summary.textContent = t('modelsErrorDetails');
  const code = document.createElement('code');
  code.textContent = detail;
  details.append(summary, code);
  return details;
}

/** The failure's sentence and its folded detail. */
export function failureNodes(failure: Pick<ModelFailure, 'message' | 'detail'>): Node[] {
  const text = document.createElement('span');
  text.dataset.testid = 'error-message';
  text.textContent = failure.message;
  return failure.detail ? [text, detailsElement(failure.detail)] : [text];
}
