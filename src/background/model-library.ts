// The options page's model list, on the background's side: what each variant is on this device,
// switching to one (downloading it first while the model in use keeps answering), and deleting
// one. A switch whose download fails changes nothing: the engine, its index and the settings stay
// as they were, and the status says why the new model could not come.

import { MODELS, publicModels, requireModel } from '../engine/registry';
import { ensureModelStored } from '../engine/hub/model-files';
import { removeStoredModel, storedModel } from '../engine/hub/inventory';
import type { ModelSpec } from '../engine/types';
import type { ModelInventoryEntry, ModelInventoryResponse } from '../messages';
import { loadSettings, saveSettings } from '../settings';
import { t } from '../i18n';
import { bundledModels, chooseModel, DOWNLOAD_FLUSH_BYTES, engineHost, modelStore, storageBackend, usableModel } from './engine-host';
import { DownloadCancelled, downloadFailure } from './model-errors';

declare const __TEST_BUILD__: boolean;

/** Aborts the running switch download, if any. */
let switchAbort: AbortController | null = null;

async function entryFor(spec: ModelSpec, bundled: readonly string[]): Promise<ModelInventoryEntry> {
  if (bundled.includes(spec.id)) return { id: spec.id, availability: 'bundled', diskBytes: 0 };
  const [wasm, webgpu] = await Promise.all([storedModel(spec, 'wasm', { store: modelStore }), storedModel(spec, 'webgpu', { store: modelStore })]);
  const availability = wasm.complete || webgpu.complete ? 'stored' : wasm.diskBytes > 0 ? 'partial' : 'absent';
  return { id: spec.id, availability, diskBytes: wasm.diskBytes };
}

/** Every variant this build offers (test builds: the test models too) and where it stands. */
export async function modelInventory(): Promise<ModelInventoryResponse> {
  const bundled = await bundledModels();
  const offered = __TEST_BUILD__ ? [...MODELS] : publicModels();
  const models = await Promise.all(offered.map((spec) => entryFor(spec, bundled)));
  const chosen = await chooseModel(await loadSettings());
  return { ok: true, models, status: engineHost.status, chosenId: chosen.id };
}

/**
 * Makes `id` the model in use. A model that needs a download is fetched first (only with the
 * person's yes, `download`), with its progress in `status.switching`; the settings change (and
 * with them the engine) only once every file is stored.
 */
export async function useModel(id: string, download: boolean): Promise<void> {
  const spec = await usableModel(id);
  if (!spec) throw new Error(t('modelsUnknown', id));
  if (switchAbort) throw new Error(t('modelsSwitchBusy', engineHost.status.switching?.label ?? ''));
  const settings = await loadSettings();
  const bundled = (await bundledModels()).includes(id);
  const backend = storageBackend(settings);
  if (!bundled && !(await storedModel(spec, backend, { store: modelStore })).complete) {
    if (!download) throw new Error(t('modelsNeedsConfirm', spec.label));
    // Only this backend's files: a load that wants the GPU's as well asks for those itself.
    engineHost.consent(id, [backend]);
    const abort = (switchAbort = new AbortController());
    engineHost.update({ switching: { id, label: spec.label, loaded: 0, total: spec.downloadBytes ?? null }, switchFailure: null });
    try {
      await ensureModelStored(spec, {
        backend,
        baseUrl: settings.modelBaseUrl,
        store: modelStore,
        signal: abort.signal,
        flushBytes: DOWNLOAD_FLUSH_BYTES,
        onProgress: (p) => engineHost.update({ switching: { id, label: spec.label, loaded: p.loaded, total: p.total ?? null } }),
      });
    } catch (error) {
      const cancelled = abort.signal.aborted && abort.signal.reason instanceof DownloadCancelled;
      engineHost.update({ switching: null, switchFailure: cancelled ? null : downloadFailure(spec, settings.modelBaseUrl, error) });
      if (cancelled) return;
      throw new Error(engineHost.status.switchFailure!.message, { cause: error });
    } finally {
      switchAbort = null;
      // The yes was for this switch: stored, failed or cancelled, a later download asks again.
      engineHost.forgetConsent(id, [backend]);
    }
  }
  engineHost.update({ switching: null, switchFailure: null });
  // The settings listener (main.ts) replaces the engine and re-indexes with the new model.
  await saveSettings({ modelId: id });
}

/** Stops a download: a switch's if one runs, else the model being loaded. False when none runs. */
export function cancelModelDownload(): boolean {
  if (switchAbort) {
    switchAbort.abort(new DownloadCancelled());
    return true;
  }
  return engineHost.cancelDownload();
}

/** Deletes a stored model; the one in use (or the one the settings name) must be replaced first. */
export async function deleteModel(id: string): Promise<void> {
  const spec = requireModel(id);
  if ((await bundledModels()).includes(id)) throw new Error(t('modelsDeleteBundled', spec.label));
  const chosen = await chooseModel(await loadSettings());
  const running = engineHost.status.phase !== 'idle' && engineHost.status.id === id;
  if (chosen.id === id || running) throw new Error(t('modelsDeleteInUse', spec.label));
  if (engineHost.status.switching?.id === id) throw new Error(t('modelsSwitchBusy', spec.label));
  await removeStoredModel(spec, { store: modelStore });
  engineHost.forgetConsent(id);
}
