// Which upstream version of a model's files a download accepts, so a file changed upstream is an
// error and never a silent swap:
// - A registry entry's pins (ModelSpec.source): the commit to ask for and each file's size and
//   SHA-256, checked before anything is stored.
// - For what the registry does not pin (an unverified source), trust on first use: the first
//   download asks the host which commit its branch points to, downloads that commit, and records
//   the commit and the hashes it verified. Every later download and re-download asks for that
//   commit and must match those hashes. The record is kept next to the model's files and outlives
//   deleteModel (it says which version was trusted, not what is stored).

import { sha256Hex } from '../../bytes.ts';
import type { FilePin, ModelSpec } from '../types.ts';
import { getHubJson } from './hf-listing.ts';
import type { DownloadOptions, Resolved } from './options.ts';
import { storeKey } from './options.ts';
import { revisionInfoUrl } from './paths.ts';
import type { ModelStore } from './store.ts';

/** Store key (under the model's prefix) of the first-use record. */
export const TRUST_FILE = 'trusted-on-first-use.json';

interface TrustRecord {
  version: 1;
  repo: string;
  /** The commit the first download got, or the requested revision when the host names none. */
  revision: string;
  files: Record<string, FilePin>;
}

/** What one download call accepts. */
export interface Trust {
  /** The revision to put in file and listing URLs. */
  revision: string;
  /** Pin for a file, and where it comes from (for the error a mismatch gives); undefined when none. */
  pinOf(path: string): { pin: FilePin; by: string } | undefined;
  /** After the download: records what was trusted on first use (no-op for fully pinned entries). */
  remember(verified: Map<string, Uint8Array>, listed: (path: string) => string | undefined): Promise<void>;
}

const COMMIT = /^[0-9a-f]{40}$/;

/**
 * The trust for one download. An explicitly requested revision other than the pinned one (the
 * CLI's --revision) is taken as asked, checked against the host's listing only.
 */
export async function establishTrust(spec: ModelSpec, r: Resolved, options: DownloadOptions): Promise<Trust> {
  const registry = spec.source && r.revision === spec.source.revision ? spec.source.files : {};
  const explicitOther = options.revision !== undefined && options.revision !== spec.source?.revision;
  const record = explicitOther ? undefined : await readRecord(options.store, r, spec);
  let revision = r.revision;
  if (!explicitOther && !spec.source) revision = record?.revision ?? (await commitOf(r, options.signal)) ?? r.revision;
  const firstUse: Record<string, FilePin> = { ...record?.files };
  const registryBy = `the registry's pin for ${spec.repo}@${r.revision}`;
  const firstUseBy = `the hashes recorded when ${spec.repo}@${revision} was first downloaded`;

  return {
    revision,
    pinOf(path) {
      if (registry[path]) return { pin: registry[path], by: registryBy };
      if (firstUse[path]) return { pin: firstUse[path], by: firstUseBy };
      return undefined;
    },
    async remember(verified, listed) {
      if (explicitOther) return;
      let changed = !record || record.revision !== revision;
      for (const [path, bytes] of verified) {
        if (registry[path] || firstUse[path]) continue;
        firstUse[path] = { size: bytes.length, sha256: listed(path) ?? (await sha256Hex(bytes)) };
        changed = true;
      }
      if (!changed || Object.keys(firstUse).length === 0) return;
      const next: TrustRecord = { version: 1, repo: spec.repo, revision, files: firstUse };
      await options.store.put(storeKey(r, TRUST_FILE), new TextEncoder().encode(JSON.stringify(next, null, 2)));
    },
  };
}

async function readRecord(store: ModelStore, r: Resolved, spec: ModelSpec): Promise<TrustRecord | undefined> {
  const bytes = await store.get(storeKey(r, TRUST_FILE));
  if (!bytes) return undefined;
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as TrustRecord;
    const valid = m?.version === 1 && m.repo === spec.repo && typeof m.revision === 'string' && typeof m.files === 'object';
    return valid ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The commit the host says a branch points to (`sha` of the revision API), or undefined for a host
 * without that API (a static mirror): then the branch itself is used and only hashes are recorded.
 */
async function commitOf(r: Resolved, signal: AbortSignal | undefined): Promise<string | undefined> {
  if (COMMIT.test(r.revision)) return r.revision;
  const answer = await getHubJson(revisionInfoUrl(r.base, r.repo, r.revision), r, signal);
  const sha = (answer?.body as { sha?: unknown } | null | undefined)?.sha;
  return typeof sha === 'string' && COMMIT.test(sha) ? sha : undefined;
}
