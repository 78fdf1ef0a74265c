// What the host says about a model's files before we download them: sizes and hashes from the
// Hugging Face tree API (`/api/models/{repo}/tree/{revision}/{dir}`), and which files hold a
// graph's external data.

import { unreachable } from './errors.ts';
import type { ExpectedFile } from './manifest.ts';
import type { Resolved } from './options.ts';
import { dirname, treeUrl } from './paths.ts';
import { withStallTimeout } from './stall.ts';

interface TreeEntry {
  type: string;
  path: string;
  size?: number;
  oid?: string;
  lfs?: { oid: string; size: number };
}

interface TreePage {
  entries: TreeEntry[];
  next?: string;
}

/**
 * Sizes and hashes for the files' directories, or undefined when the host has no tree API
 * (a plain static mirror): downloads then go ahead with size checks from the headers only.
 * An unreachable host is reported here already, with the same message a download would give.
 */
export async function listFiles(
  paths: string[],
  r: Resolved,
  signal: AbortSignal | undefined,
): Promise<Map<string, ExpectedFile> | undefined> {
  const dirs = [...new Set(paths.map(dirname))];
  const out = new Map<string, ExpectedFile>();
  let listedAny = false;
  for (const dir of dirs) {
    let url: string | undefined = treeUrl(r.base, r.repo, r.revision, dir);
    while (url) {
      const page = await fetchPage(url, r, signal);
      if (!page) break; // no listing for this directory: its files get header-based size checks only
      listedAny = true;
      for (const e of page.entries) {
        const expected = expectedFile(e);
        if (expected) out.set(e.path, expected);
      }
      url = page.next;
    }
  }
  return listedAny ? out : undefined;
}

/** One page of a directory listing; undefined when the host answers with anything but a listing. */
async function fetchPage(url: string, r: Resolved, signal: AbortSignal | undefined): Promise<TreePage | undefined> {
  const answer = await getHubJson(url, r, signal);
  if (!answer || !Array.isArray(answer.body)) return undefined;
  // Large directories are paginated with `Link: <...>; rel="next"`.
  return { entries: answer.body as TreeEntry[], next: nextLink(answer.headers.get('link'), url) };
}

/**
 * A JSON answer of the host's API, or undefined when it answers with an error status or no JSON
 * (a plain static mirror has no API). An unreachable host throws the error a download would give.
 */
export async function getHubJson(url: string, r: Resolved, signal: AbortSignal | undefined): Promise<{ body: unknown; headers: Headers } | undefined> {
  try {
    return await withStallTimeout(r.stallTimeoutMs, signal, async (watch) => {
      const res = await r.fetch(url, { signal: watch.signal, headers: { accept: 'application/json' } });
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        return undefined;
      }
      const body: unknown = await res.json().catch(() => undefined);
      return body === undefined ? undefined : { body, headers: res.headers };
    });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw unreachable(url, err);
  }
}

/** LFS files are checked against their SHA-256, files kept in git against their blob id. */
function expectedFile(e: TreeEntry): ExpectedFile | undefined {
  if (e?.type !== 'file' || typeof e.path !== 'string') return undefined;
  if (e.lfs && typeof e.lfs.oid === 'string') return { size: e.lfs.size ?? e.size, sha256: e.lfs.oid.toLowerCase() };
  return { size: e.size, gitOid: typeof e.oid === 'string' ? e.oid.toLowerCase() : undefined };
}

export function nextLink(header: string | null, current: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return new URL(m[1], current).toString();
  }
  return undefined;
}

/**
 * External-data files of an ONNX graph, as exporters name them: `X.onnx_data` (optimum /
 * transformers.js, possibly sharded as `X.onnx_data_1`, ...), `X.onnx.data` (torch.onnx), or
 * `X.bin` next to `X.onnx`.
 */
export function externalDataFor(onnxPath: string, listing: Map<string, ExpectedFile>): string[] {
  const stem = onnxPath.replace(/\.onnx$/, '');
  const found: string[] = [];
  const candidates = [`${onnxPath}_data`, `${onnxPath}.data`, `${stem}.bin`];
  for (const c of candidates) if (listing.has(c)) found.push(c);
  const shards = [...listing.keys()]
    .filter((p) => p.startsWith(`${onnxPath}_data_`) && /^\d+$/.test(p.slice(onnxPath.length + 6)))
    .sort((a, b) => Number(a.slice(onnxPath.length + 6)) - Number(b.slice(onnxPath.length + 6)));
  return [...found, ...shards];
}
