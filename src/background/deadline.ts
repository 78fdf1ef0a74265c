// Deadlines for work that may never finish on its own (an image host that never answers, a page
// that never draws): the caller gets a typed error in time and moves on. The work itself is not
// cancelled (a fetch has its own abort; a page's decode cannot be stopped), its late answer is dropped.

/** The work did not finish within its time. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: no answer within ${formatSeconds(ms)}`);
  }
}

/** `work`, or a DeadlineError once `ms` have passed (at once for `ms` <= 0). */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) {
    work.catch(() => undefined);
    return Promise.reject(new DeadlineError(what, 0));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  // A rejection after the deadline is nobody's business any more.
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** A point in time several steps share: each step gets what is left of it. */
export class Deadline {
  private readonly at: number;
  constructor(
    readonly ms: number,
    private readonly now: () => number = Date.now,
  ) {
    this.at = now() + ms;
  }

  /** `work` within what remains; the error names the whole budget, which is what ran out. */
  run<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.at - this.now(), what).catch((error: unknown) => {
      throw error instanceof DeadlineError ? new DeadlineError(what, this.ms) : error;
    });
  }

  /** As run, for work that waited for its turn: none is started once the time is out. */
  start<T>(work: () => Promise<T>, what: string): Promise<T> {
    if (this.at <= this.now()) return Promise.reject(new DeadlineError(what, this.ms));
    return this.run(work(), what);
  }
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
