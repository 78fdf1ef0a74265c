// Decoding and inference share the machine's cores. Where the model's WASM threads already take
// every core, a decode beside a run does not use an idle core: it takes time slices from the
// inference threads, and each of their parallel loops then waits for the thread that was
// preempted, so the run loses more than the decode costs (bench:page: runs of 8 took up to twice
// as long with decoding beside them). There images take turns with the runs: they decode between
// runs, a few at once, and a run starts once the images it waits for are decoded. With a spare
// core (or the model on the GPU) they decode as they come, next to the runs.

/** Images decoding at once between runs, when they must not run beside inference. */
export const DECODES_BETWEEN_RUNS = 2;

/** Whether decoding must wait for the model: its threads take every core of this machine. */
export function modelTakesEveryCore(engine: { backend: string; threads: number | null }, cores: number): boolean {
  return engine.backend === 'wasm' && (engine.threads ?? 1) >= cores;
}

export class DecodeTurns {
  /** A run is going on with every core. */
  private exclusiveRun = false;
  private decoding = 0;
  private readonly waiting: (() => void)[] = [];

  /** `changed` hears of every decode that starts or ends (a run waiting for decodes re-checks). */
  constructor(private readonly changed: () => void = () => undefined) {}

  /**
   * Waits for an image's turn to decode; the answer ends it (call it once the decode is over,
   * failed or not). Turns are given in the order they were asked for.
   */
  take(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push(() => {
        let ended = false;
        resolve(() => {
          if (ended) return;
          ended = true;
          this.decoding--;
          this.pump();
          this.changed();
        });
      });
      this.pump();
    });
  }

  /** A run starts; `exclusive` when it takes every core, so no decode may start until it ends. */
  runStarts(exclusive: boolean): void {
    this.exclusiveRun = exclusive;
  }

  runEnds(): void {
    this.exclusiveRun = false;
    this.pump();
  }

  /** Images decoding or waiting to: a run that would take every core waits for them first. */
  get pending(): number {
    return this.decoding + this.waiting.length;
  }

  private pump(): void {
    let started = false;
    while (this.waiting.length > 0 && !this.exclusiveRun && this.decoding < DECODES_BETWEEN_RUNS) {
      this.decoding++;
      started = true;
      this.waiting.shift()!();
    }
    if (started) this.changed();
  }
}
