// The options page's Models section, like an app store's list: every variant with its download
// size, input size and speed hint, what it is on this device (bundled, downloaded with its disk
// use, partly downloaded, not downloaded, downloading), "Use this model" (asking before any
// download) and "Delete". The background does the work (background/model-library.ts); this page
// asks for the list again while something is under way.
import { MODELS } from '../engine/registry';
import type { ModelSpec } from '../engine/types';
import type { ModelInventoryEntry, ModelInventoryResponse, RequestMessage } from '../messages';
import { sendRequest } from '../send-request';
import { formatBytes, formatNumber, t } from '../i18n';
import { bytesText, button, confirmText, failureNodes } from '../model-text';

const POLL_MS = 500;

interface Row {
  spec: ModelSpec;
  entry: ModelInventoryEntry;
}

export class ModelsSection {
  private inventory: ModelInventoryResponse | null = null;
  /** The variant waiting for the person's yes before its download. */
  private asking: string | null = null;
  /** A request failed (not a model failure the status reports): shown until the next action. */
  private problem: { message: string; detail: string } | null = null;
  private poll: ReturnType<typeof setTimeout> | undefined;
  private readonly list = document.createElement('ul');
  private readonly notice = document.createElement('div');

  constructor(private readonly root: HTMLElement) {
    const title = document.createElement('h2');
    title.id = 'models-title';
    title.textContent = t('modelsTitle');
    root.setAttribute('aria-labelledby', title.id);
    const help = document.createElement('p');
    help.className = 'help';
    help.textContent = t('modelsSpeedNote');
    this.notice.dataset.testid = 'models-notice';
    this.notice.setAttribute('role', 'status');
    this.list.dataset.testid = 'model-list';
    this.list.className = 'model-list';
    root.replaceChildren(title, help, this.notice, this.list);
  }

  /** The model the settings name (for the label sets' defaults). */
  chosenId(): string {
    return this.inventory?.chosenId ?? '';
  }

  async refresh(): Promise<void> {
    clearTimeout(this.poll);
    try {
      this.inventory = await sendRequest({ type: 'model-inventory' });
    } catch (error) {
      this.problem = { message: t('modelsListFailed'), detail: (error as Error).message };
    }
    this.render();
    const s = this.inventory?.status;
    if (s && (s.switching || s.phase === 'downloading' || s.phase === 'loading')) this.poll = setTimeout(() => void this.refresh(), POLL_MS);
  }

  private async act(message: RequestMessage): Promise<void> {
    this.problem = null;
    this.asking = null;
    const request = sendRequest(message);
    // A switch's download reports through the status while the request runs.
    setTimeout(() => void this.refresh(), 100);
    let failed: Error | null = null;
    await request.catch((error: Error) => (failed = error));
    await this.refresh();
    // A switch that failed is in the status (with its detail); other refusals show here.
    const reported = message.type === 'model-use' && this.inventory?.status.switchFailure?.id === message.id;
    if (failed && !reported) {
      this.problem = { message: (failed as Error).message, detail: '' };
      this.render();
    }
  }

  private inUseId(): string {
    const s = this.inventory?.status;
    return s && s.id && s.phase !== 'idle' ? s.id : (this.inventory?.chosenId ?? '');
  }

  private render(): void {
    const inv = this.inventory;
    this.renderNotice();
    if (!inv) return;
    const rows: Row[] = [];
    for (const entry of inv.models) {
      const spec = MODELS.find((m) => m.id === entry.id);
      if (spec) rows.push({ spec, entry });
    }
    this.list.replaceChildren(...rows.map((row) => this.rowElement(row)));
  }

  private renderNotice(): void {
    const s = this.inventory?.status;
    const nodes: Node[] = [];
    if (this.problem) nodes.push(...failureNodes(this.problem));
    else if (s?.switchFailure) {
      nodes.push(...failureNodes({ message: t('modelsSwitchFailed', s.switchFailure.label, s.label || t('modelsNone'), s.switchFailure.message), detail: s.switchFailure.detail }));
    } else if (s?.phase === 'error' && s.error) nodes.push(...failureNodes({ message: s.error, detail: s.errorDetail ?? '' }));
    this.notice.classList.toggle('error', nodes.length > 0);
    this.notice.replaceChildren(...nodes);
  }

  private rowElement({ spec, entry }: Row): HTMLLIElement {
    const s = this.inventory!.status;
    const li = document.createElement('li');
    li.dataset.testid = 'model-row';
    li.dataset.id = spec.id;
    const inUse = this.inUseId() === spec.id;
    const switching = s.switching?.id === spec.id ? s.switching : null;
    const loading = s.id === spec.id && s.phase === 'downloading' ? s.downloaded : null;
    const downloading = switching ?? (loading && { loaded: loading.loaded, total: loading.total });
    const state = downloading ? 'downloading' : entry.availability;
    li.dataset.state = state;
    li.dataset.inUse = String(inUse);
    li.dataset.diskBytes = String(entry.diskBytes);

    const name = document.createElement('strong');
    name.textContent = spec.label;
    const facts = document.createElement('span');
    facts.className = 'help';
    facts.textContent = [
      t('modelsInputSize', formatNumber(spec.imageSize)),
      spec.downloadBytes ? t('modelsDownloadSize', formatBytes(spec.downloadBytes)) : null,
      spec.speedMs ? t('modelsSpeed', formatNumber(spec.speedMs / 1000, { maximumFractionDigits: 1, minimumFractionDigits: 1 })) : null,
    ]
      .filter(Boolean)
      .join(' · ');
    const status = document.createElement('span');
    status.dataset.testid = 'model-state';
    status.textContent = [inUse ? t('modelsInUse') : null, this.stateText(state, entry, downloading)].filter(Boolean).join(' · ');
    const head = document.createElement('div');
    head.append(name, ' ', status);
    li.append(head, facts);

    const actions = document.createElement('div');
    actions.className = 'model-actions';
    if (this.asking === spec.id) {
      const question = document.createElement('span');
      question.dataset.testid = 'model-confirm';
      question.textContent = confirmText(spec.label, spec.downloadBytes);
      actions.append(
        question,
        button(t('modelsDownload'), 'model-confirm-download', () => void this.act({ type: 'model-use', id: spec.id, download: true })),
        button(t('modelsCancel'), 'model-confirm-cancel', () => {
          this.asking = null;
          this.render();
        }),
      );
    } else if (downloading) {
      actions.append(button(t('modelsCancel'), 'model-cancel', () => void this.act({ type: 'model-cancel' })));
      const note = document.createElement('span');
      note.className = 'help';
      note.textContent = t('modelsCancelKeepsBytes');
      actions.append(note);
    } else {
      const use = button(t('modelsUse'), 'model-use', () => {
        if (entry.availability === 'bundled' || entry.availability === 'stored') void this.act({ type: 'model-use', id: spec.id, download: false });
        else {
          this.asking = spec.id;
          this.render();
        }
      });
      use.disabled = inUse || !!s.switching;
      actions.append(use);
      if (entry.availability === 'stored' || entry.availability === 'partial') {
        const del = button(t('modelsDelete'), 'model-delete', () => void this.act({ type: 'model-delete', id: spec.id }));
        del.disabled = inUse;
        // Says what would happen instead of failing: the model in use stays until another is chosen.
        if (inUse) del.title = t('modelsDeleteInUse', spec.label);
        actions.append(del);
      }
    }
    li.append(actions);
    return li;
  }

  private stateText(state: string, entry: ModelInventoryEntry, downloading: { loaded: number; total: number | null } | null): string {
    if (downloading) return t('modelsStateDownloading', bytesText(downloading.loaded, downloading.total));
    if (state === 'bundled') return t('modelsStateBundled');
    if (state === 'stored') return t('modelsStateStored', formatBytes(entry.diskBytes));
    if (state === 'partial') return t('modelsStatePartial', formatBytes(entry.diskBytes));
    return t('modelsStateAbsent');
  }
}

/** Mounts the section into its placeholder and fills it. */
export async function mountModels(root: HTMLElement): Promise<ModelsSection> {
  const section = new ModelsSection(root);
  await section.refresh();
  return section;
}
