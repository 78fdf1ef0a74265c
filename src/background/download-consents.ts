// The person's yes to downloading a model's files, per model and backend, from the question until
// those files are stored. Kept in storage.session: Chrome stops an idle MV3 service worker, a
// download included, and the worker it starts next resumes the download from the kept bytes
// without asking again. Dropped once the files are stored, when the person cancels, and when the
// model is deleted; the browser session's end drops the rest.
import type { Backend } from '../engine/types';
import { sessionArea, SessionValue, type SessionArea } from './session-area';

const KEY = 'downloadConsents';
const BACKENDS: readonly Backend[] = ['wasm', 'webgpu'];

type Stored = Record<string, Backend[]>;

export class DownloadConsents {
  private readonly agreed = new Map<string, Set<Backend>>();
  private readonly stored: SessionValue<Stored>;
  /** Every change waits for the ones before it, the first being what a restarted background reads back. */
  private changes: Promise<void>;

  constructor(area: SessionArea = sessionArea()) {
    this.stored = new SessionValue(KEY, area);
    this.changes = this.restore();
  }

  /** Whether the person agreed to download every one of `backends`' files of model `id`. */
  async covers(id: string, backends: readonly Backend[]): Promise<boolean> {
    await this.changes;
    const agreed = this.agreed.get(id);
    return backends.every((b) => agreed?.has(b));
  }

  give(id: string, backends: readonly Backend[]): void {
    this.change(() => {
      const agreed = this.agreed.get(id) ?? new Set<Backend>();
      for (const backend of backends) agreed.add(backend);
      this.agreed.set(id, agreed);
    });
  }

  /** The files are stored, or the person said stop, or the model is gone: the next download asks again. */
  drop(id: string, backends: readonly Backend[] = BACKENDS): void {
    this.change(() => {
      const agreed = this.agreed.get(id);
      for (const backend of backends) agreed?.delete(backend);
      if (agreed?.size === 0) this.agreed.delete(id);
    });
  }

  /** For tests: resolves once the changes so far are written. */
  async flushed(): Promise<void> {
    await this.changes;
    await this.stored.flushed();
  }

  private change(apply: () => void): void {
    this.changes = this.changes.then(() => {
      apply();
      this.stored.write(Object.fromEntries([...this.agreed].map(([id, backends]) => [id, [...backends]])));
    });
  }

  /** Storage can hold anything: only model ids with known backends are taken. */
  private async restore(): Promise<void> {
    const raw = await this.stored.read();
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return;
    for (const [id, backends] of Object.entries(raw)) {
      const known = Array.isArray(backends) ? BACKENDS.filter((b) => backends.includes(b)) : [];
      if (known.length > 0) this.agreed.set(id, new Set(known));
    }
  }
}
