/** Inserts `item` after every element of `list` whose `key` is not larger: lowest first, arrival order among equals. */
export function insertByKey<T>(list: T[], item: T, key: (t: T) => number): void {
  const k = key(item);
  list.splice(list.findLastIndex((other) => key(other) <= k) + 1, 0, item);
}

/**
 * A counting semaphore whose waiting tasks start lowest `priority` first (arrival order among
 * equals): at most `limit` tasks run at once. Orders the pipeline's decodes (the images in view
 * first).
 */
export class PriorityLimiter {
  private running = 0;
  private readonly waiting: { priority: number; start(): void }[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(priority: number, task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((start) => insertByKey(this.waiting, { priority, start }, (w) => w.priority));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.start();
    }
  }
}

/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order. Keeps
 * image reading from flooding a page (content script) or a site (background).
 */
export class Limiter {
  private readonly places: PriorityLimiter;

  constructor(limit: number) {
    this.places = new PriorityLimiter(limit);
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return this.places.run(0, task);
  }
}

/**
 * Runs tasks one at a time in arrival order; a failed task does not stop the ones after it.
 * The same as a Limiter of 1, without the counting.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** One Mutex per key, dropped again when its queue empties (keys may be many and short-lived). */
export class KeyedMutex<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  async run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * A gate others wait at while it is shut: shut(ms) closes it until open() or for at most `ms`
 * (whoever shut it may never say it is done); shutting a shut gate changes nothing.
 */
export class Gate {
  private shutUntil: Promise<void> | null = null;
  private reopen: () => void = () => undefined;

  /** Settles at once while open, else when the gate opens. */
  passed(): Promise<void> {
    return this.shutUntil ?? Promise.resolve();
  }

  shut(ms: number): void {
    if (this.shutUntil) return;
    this.shutUntil = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.open(), ms);
      this.reopen = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  open(): void {
    this.shutUntil = null;
    this.reopen();
    this.reopen = () => undefined;
  }
}

/**
 * Runs each key's task at most once per interval, without delaying the first: a call after a
 * quiet interval runs in the next task, a call within the interval when it is over. Calls while a
 * run is scheduled join it (the task should read the state when it runs, not when asked); an
 * urgent call runs in the next task whatever the interval.
 */
export class KeyedThrottle<K> {
  private readonly timers = new Map<K, ReturnType<typeof setTimeout>>();
  private readonly lastRun = new Map<K, number>();

  constructor(private readonly intervalMs: number) {}

  schedule(key: K, task: () => void, urgent = false): void {
    const scheduled = this.timers.get(key);
    if (scheduled !== undefined && !urgent) return;
    clearTimeout(scheduled);
    const wait = urgent ? 0 : Math.max(0, (this.lastRun.get(key) ?? -Infinity) + this.intervalMs - Date.now());
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.lastRun.set(key, Date.now());
        task();
      }, wait),
    );
  }

  /** Drops the key's scheduled run and its history. */
  forget(key: K): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.lastRun.delete(key);
  }
}
