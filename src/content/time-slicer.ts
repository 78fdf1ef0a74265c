// One scan's time on the page's main thread, cut into stretches of about SLICE_MS with the page's
// turns in between, so no task of ours becomes a long task (50 ms) for the page.
//
// Two costs cannot be cut by checking the clock: a style recalculation or layout that our first
// read (getComputedStyle, getBoundingClientRect) forces after the page changed, which on a page
// of thousands of images is one indivisible flush of the whole document. So every stretch starts
// right after the page's own rendering: style and layout are then up to date and our reads only
// read. Where nothing renders (a hidden tab) a stretch starts after a plain yield.

/** Longest stretch of work before yielding to the page. */
const SLICE_MS = 8;
/** Stretches this long are kept with the steps they spanned (what an e2e test reports). */
const NOTED_MS = 20;
/** A frame that never comes (the tab was hidden meanwhile) is not waited for longer than this. */
const FRAME_WAIT_MS = 100;

/**
 * Lets the page handle input and paint before the next slice. A message to ourselves, not
 * setTimeout: browsers stretch timers in background tabs to a second or more.
 */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** Resolves in a task after the page's next rendering (rAF callbacks, style, layout, paint). */
function afterRendering(): Promise<void> {
  if (document.visibilityState !== 'visible') return yieldToPage();
  return new Promise((resolve) => {
    let started = false;
    const go = (): void => {
      if (started) return;
      started = true;
      clearTimeout(timer);
      // From inside the frame callback: the message runs once this frame's rendering is done.
      void yieldToPage().then(resolve);
    };
    const timer = setTimeout(go, FRAME_WAIT_MS);
    requestAnimationFrame(go);
  });
}

export class TimeSlicer {
  /** Main-thread time in all (the wall time also includes the page's turns in between). */
  busyMs = 0;
  /** Uninterrupted stretches of work. */
  slices = 1;
  /** The longest stretch: what the page waited for at most. */
  longestMs = 0;
  /** Stretches of NOTED_MS or more, with the steps they spanned (`step@ms into the stretch`). */
  readonly noted: { ms: number; steps: string }[] = [];
  private stretchStart = performance.now();
  private steps: string[] = [];

  /** Names the work that follows, for `noted`. */
  step(name: string): void {
    this.steps.push(`${name}@${Math.round(performance.now() - this.stretchStart)}`);
  }

  /** Call after each unit of work: yields once the stretch has run SLICE_MS. */
  async tick(): Promise<void> {
    if (performance.now() - this.stretchStart > SLICE_MS) await this.pause();
  }

  /**
   * Ends the stretch and resumes after the page's next rendering: call before the first read of
   * styles or geometry, so that read does not force the page's pending recalculation.
   */
  async fresh(): Promise<void> {
    await this.pause();
  }

  stop(): void {
    this.endStretch();
  }

  private async pause(): Promise<void> {
    this.endStretch();
    await afterRendering();
    this.slices++;
    this.stretchStart = performance.now();
  }

  private endStretch(): void {
    const ms = performance.now() - this.stretchStart;
    this.busyMs += ms;
    this.longestMs = Math.max(this.longestMs, ms);
    if (ms >= NOTED_MS) this.noted.push({ ms: Math.round(ms), steps: this.steps.join(' ') });
    this.steps = [];
  }
}
