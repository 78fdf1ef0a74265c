// What a screen reader hears of the popup's progress: one polite sentence, at most every
// ANNOUNCE_EVERY_MS, always the latest. The counts and bars around it change many times a
// second while a page indexes; a live region over them would talk without pause.
import type { TabView } from '../messages';
import { formatNumber, t, tn } from '../i18n';

export const ANNOUNCE_EVERY_MS = 5_000;

export class Announcer {
  private lastAt = -Infinity;
  private said = '';
  private waiting: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly region: HTMLElement,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Announces `text` now if the last announcement is old enough, else once it is (if still the latest). */
  say(text: string): void {
    if (text === '' || (text === this.said && this.waiting === null)) return;
    const wait = this.lastAt + ANNOUNCE_EVERY_MS - this.now();
    if (wait <= 0) return this.announce(text);
    this.waiting = text;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const next = this.waiting;
      this.waiting = null;
      if (next !== null && next !== this.said) this.announce(next);
    }, wait);
  }

  private announce(text: string): void {
    this.said = text;
    this.lastAt = this.now();
    this.region.textContent = text;
  }
}

/** The sentence for the page's indexing progress; '' when there is nothing to tell. */
export function progressSentence(v: Pick<TabView, 'found' | 'indexed' | 'failed' | 'pending'>): string {
  if (v.found === 0) return '';
  if (v.pending > 0) return t('a11yIndexing', formatNumber(v.indexed), formatNumber(v.found));
  return v.failed > 0 ? t('a11yIndexedWithFailures', formatNumber(v.indexed), formatNumber(v.failed)) : tn('a11yIndexedAll', v.indexed, formatNumber(v.indexed));
}
