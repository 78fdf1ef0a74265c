// How a model that cannot be used is told to people: one short sentence (translated) and the
// technical detail (URL, HTTP status, file; English, as the engine words it) to unfold. And the
// two ways a load stops without failing: the person has not said yes to the download yet, or
// said stop.

import type { ModelFailure } from '../messages';
import type { ModelSpec } from '../engine/types';
import { ModelDownloadError } from '../engine/hub/model-files';
import { describe } from '../errors';
import { t } from '../i18n';

/** The model is neither bundled nor stored, and the person has not agreed to download it. */
export class DownloadNeedsConsent extends Error {
  override readonly name = 'DownloadNeedsConsent';
  constructor(
    readonly spec: ModelSpec,
    /** What the download would fetch, every backend's files included (null: not known beforehand). */
    readonly bytes: number | null,
  ) {
    super(`${spec.label} is not on this device and its download was not confirmed`);
  }
}

/** The person stopped the download (the abort reason, so a load can tell it from a failure). */
export class DownloadCancelled extends Error {
  override readonly name = 'DownloadCancelled';
  constructor() {
    super('the download was cancelled');
  }
}

/**
 * Whether a load stopped for the person's answer to the download question (not asked yet, or the
 * download cancelled) rather than failed: the error itself or one of its causes says so.
 */
export function awaitsDownloadAnswer(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof DownloadNeedsConsent || e instanceof DownloadCancelled) return true;
  }
  return false;
}

/** A load failure already put in words for the UI. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(readonly failure: ModelFailure, options?: { cause?: unknown }) {
    super(`${failure.message} ${failure.detail}`, options);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A model whose files could not be downloaded (or read back from the store). */
export function downloadFailure(spec: ModelSpec, baseUrl: string, error: unknown): ModelFailure {
  const hint = error instanceof ModelDownloadError && error.code === 'integrity' ? t('modelsHintRetryRedownloads') : t('modelsHintCheckSource');
  return {
    id: spec.id,
    label: spec.label,
    message: `${t('modelsDownloadFailed', spec.label, hostOf(baseUrl))} ${hint}`,
    detail: describe(error),
  };
}

/** A model that was on the device but did not start (a session failed to open, say). */
export function startFailure(spec: Pick<ModelSpec, 'id' | 'label'>, error: unknown): ModelFailure {
  return { id: spec.id, label: spec.label, message: t('modelsStartFailed', spec.label), detail: describe(error) };
}
