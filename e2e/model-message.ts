// The popup's model line as a test reads it: shown or hidden, its phase, the sentence, the folded
// technical detail of an error and which buttons it offers.
import type { HPage } from './browsers';

export interface ModelMessage {
  hidden: boolean;
  error: boolean;
  phase: string;
  text: string;
  /** The folded technical part of an error. */
  detail: string;
  detailOpen: boolean;
  retry: boolean;
  buttons: string[];
  progress: number;
  done: string;
  indexed: number;
  failed: number;
  /** Images waiting to be indexed. */
  pending: number;
}

export function modelMessage(popup: HPage): Promise<ModelMessage> {
  return popup.evaluate(() => {
    const m = document.querySelector<HTMLElement>('[data-testid=model-message]')!;
    const bar = document.querySelector<HTMLProgressElement>('[data-testid=progress]')!;
    const details = m.querySelector<HTMLDetailsElement>('[data-testid=error-detail]');
    return {
      hidden: m.hidden,
      error: m.classList.contains('error'),
      phase: m.dataset.phase ?? '',
      // The sentence without the buttons' labels and the folded detail.
      text: [...m.querySelectorAll('[data-testid=model-text], [data-testid=error-message]')].map((n) => n.textContent).join(' '),
      detail: details?.querySelector('code')?.textContent ?? '',
      detailOpen: details?.open ?? false,
      retry: !!m.querySelector('[data-testid=retry]'),
      buttons: [...m.querySelectorAll<HTMLElement>('button')].map((b) => b.dataset.testid ?? ''),
      progress: bar.value,
      done: bar.dataset.done ?? '',
      indexed: Number(/(\d+) indexed/.exec(document.getElementById('indexed-line')?.textContent ?? '')?.[1] ?? NaN),
      failed: Number(/(\d+) failed/.exec(document.getElementById('indexed-line')?.textContent ?? '')?.[1] ?? 0),
      pending: Number(/(\d+) waiting/.exec(document.getElementById('indexed-line')?.textContent ?? '')?.[1] ?? 0),
    };
  });
}
