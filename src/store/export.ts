// Export and import of the visual memory: one versioned JSON file.
//
//   const file = await exportMemory(store, { labelSets: [{ name: 'default', labels: settings.labels }] });
//   const { counts, labelSets } = await importMemory(store, file);   // throws ImportError; merge labelSets into settings
//
// Why JSON with base64 vectors rather than a binary container: it opens in any editor, needs
// no parser beyond JSON.parse, and base64 costs a third more than raw bytes (about 1.4 KB per
// 512-d fp16 embedding), which a file made by hand once in a while can afford.
//
// Format version 1:
//   { format: 'mobileclip-lens-memory', version: 1, exportedAt: <ms>,
//     labelSets:  [{ name, labels: [string] }],
//     embeddings: [{ modelId, sha256, dim, fp16: <base64, dim little-endian binary16 values> }],
//     pages:      [{ url, title, favicon, visitedAt, modelIds, images: [{ sha256, src, alt, width, height }] }],
//     thumbnails: [{ sha256, type, data: <base64 of the image bytes> }] }
//
// Import validates the whole file before writing anything, then adds what is missing in one
// transaction (importRecords): a hostile or damaged file is refused with a reason and
// leaves the store exactly as it was.

import { fromFloat16Bits } from '../engine/similarity';
import { base64ToBytes, bytesToBase64 } from './base64';
import type { ImportCounts, LensStore, MemoryRecords } from './lens-store';
import { checkThumbnail, isSha256, MAX_PAGE_IMAGES, mergePage } from './pages';
import type { PageRecord } from './schema';

export const MEMORY_FORMAT = 'mobileclip-lens-memory';
export const MEMORY_FORMAT_VERSION = 1;
export const LIMITS = {
  fileBytes: 1024 * 1024 * 1024,
  embeddings: 2_000_000,
  pages: 500_000,
  thumbnails: 2_000_000,
  labelSets: 100,
  labelsPerSet: 1000,
  labelChars: 200,
  dim: 4096,
};
/** Stored embeddings are unit length; a vector far from it was not written by this extension. */
const NORM_TOLERANCE = 0.02;

export interface LabelSet {
  name: string;
  labels: string[];
}

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

export async function exportMemory(store: LensStore, options: { labelSets?: LabelSet[]; now?: number } = {}): Promise<Blob> {
  const records = await store.exportRecords();
  const thumbnails = await Promise.all(
    records.thumbnails.map(async ({ sha256, blob }) => ({ sha256, type: blob.type, data: bytesToBase64(new Uint8Array(await blob.arrayBuffer())) })),
  );
  const file = {
    format: MEMORY_FORMAT,
    version: MEMORY_FORMAT_VERSION,
    exportedAt: options.now ?? Date.now(),
    labelSets: options.labelSets ?? [],
    embeddings: records.embeddings.map(({ modelId, sha256, vector }) => ({ modelId, sha256, dim: vector.length, fp16: bytesToBase64(fp16Bytes(vector)) })),
    pages: records.pages.map(({ url, title, favicon, visitedAt, modelIds, images }) => ({ url, title, favicon, visitedAt, modelIds, images })),
    thumbnails,
  };
  return new Blob([JSON.stringify(file)], { type: 'application/json' });
}

export async function importMemory(store: LensStore, file: Blob | string): Promise<{ counts: ImportCounts; labelSets: LabelSet[] }> {
  const size = typeof file === 'string' ? file.length : file.size;
  if (size > LIMITS.fileBytes) throw new ImportError(`the file is ${size} bytes, more than the ${LIMITS.fileBytes} an import accepts`);
  const { records, labelSets } = parseMemoryFile(typeof file === 'string' ? file : await file.text());
  return { counts: await store.importRecords(records), labelSets };
}

/** Validates a whole export file; throws ImportError naming the first thing wrong. */
export function parseMemoryFile(text: string): { records: MemoryRecords; labelSets: LabelSet[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ImportError(`not a memory file: the JSON is malformed or cut short (${(e as Error).message})`);
  }
  const root = object(raw, 'the file');
  if (root.format !== MEMORY_FORMAT) throw new ImportError(`not a memory file: format is ${JSON.stringify(root.format)}, expected "${MEMORY_FORMAT}"`);
  if (root.version !== MEMORY_FORMAT_VERSION) {
    const newer = typeof root.version === 'number' && root.version > MEMORY_FORMAT_VERSION;
    throw new ImportError(`memory file version ${JSON.stringify(root.version)} ${newer ? 'comes from a newer version of the extension' : 'is not one this version reads'} (reads ${MEMORY_FORMAT_VERSION})`);
  }
  const seen = new Set<string>();
  const embeddings = list(root.embeddings, 'embeddings', LIMITS.embeddings).flatMap((e, i) => {
    const r = embedding(e, `embeddings[${i}]`);
    const key = `${r.modelId}\u0000${r.sha256}`;
    return seen.has(key) || !seen.add(key) ? [] : [r];
  });
  const urls = new Set<string>();
  const pages = list(root.pages, 'pages', LIMITS.pages).flatMap((p, i) => {
    const r = page(p, `pages[${i}]`);
    return urls.has(r.url) || !urls.add(r.url) ? [] : [r];
  });
  const hashes = new Set<string>();
  const thumbnails = list(root.thumbnails, 'thumbnails', LIMITS.thumbnails).flatMap((t, i) => {
    const r = thumbnail(t, `thumbnails[${i}]`);
    return hashes.has(r.sha256) || !hashes.add(r.sha256) ? [] : [r];
  });
  const labelSets = list(root.labelSets ?? [], 'labelSets', LIMITS.labelSets).map((s, i) => labelSet(s, `labelSets[${i}]`));
  return { records: { embeddings, pages, thumbnails }, labelSets };
}

function fp16Bytes(vector: Uint16Array): Uint8Array {
  const out = new Uint8Array(vector.length * 2);
  for (let i = 0; i < vector.length; i++) {
    out[2 * i] = vector[i] & 0xff;
    out[2 * i + 1] = vector[i] >>> 8;
  }
  return out;
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ImportError(`${where} is not an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new ImportError(`${where} is not a list`);
  if (v.length > max) throw new ImportError(`${where} holds ${v.length} entries, more than the ${max} an import accepts`);
  return v;
}

function text(v: unknown, where: string, max: number, allowEmpty = true): string {
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0) || v.length > max) throw new ImportError(`${where} is not a text of at most ${max} characters`);
  return v;
}

function hash(v: unknown, where: string): string {
  if (!isSha256(v)) throw new ImportError(`${where} is not a lower-case SHA-256`);
  return v;
}

function embedding(v: unknown, where: string): MemoryRecords['embeddings'][number] {
  const e = object(v, where);
  const modelId = text(e.modelId, `${where}.modelId`, 200, false);
  const sha256 = hash(e.sha256, `${where}.sha256`);
  const dim = e.dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1 || dim > LIMITS.dim) throw new ImportError(`${where}.dim is not a dimension between 1 and ${LIMITS.dim}`);
  const bytes = typeof e.fp16 === 'string' ? base64ToBytes(e.fp16) : null;
  if (!bytes || bytes.length !== 2 * dim) throw new ImportError(`${where}.fp16 is not ${dim} base64-encoded half floats`);
  const vector = new Uint16Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    vector[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    const x = fromFloat16Bits(vector[i]);
    if (!Number.isFinite(x)) throw new ImportError(`${where}.fp16 holds a value that is not a finite number`);
    norm += x * x;
  }
  if (Math.abs(Math.sqrt(norm) - 1) > NORM_TOLERANCE) throw new ImportError(`${where}.fp16 is not a unit-length embedding (length ${Math.sqrt(norm).toFixed(3)})`);
  return { modelId, sha256, vector };
}

function page(v: unknown, where: string): PageRecord {
  const p = object(v, where);
  const url = text(p.url, `${where}.url`, 8192, false);
  if (!URL.canParse(url)) throw new ImportError(`${where}.url is not an address`);
  if (typeof p.visitedAt !== 'number' || !Number.isFinite(p.visitedAt)) throw new ImportError(`${where}.visitedAt is not a time`);
  const favicon = p.favicon === null ? null : text(p.favicon, `${where}.favicon`, 8192);
  const modelIds = list(p.modelIds, `${where}.modelIds`, 100).map((m, i) => text(m, `${where}.modelIds[${i}]`, 200, false));
  const images = list(p.images, `${where}.images`, MAX_PAGE_IMAGES).map((x, i) => {
    const at = `${where}.images[${i}]`;
    const image = object(x, at);
    const size = (n: unknown, name: string) => {
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new ImportError(`${at}.${name} is not a size`);
      return n;
    };
    return { sha256: hash(image.sha256, `${at}.sha256`), src: text(image.src, `${at}.src`, 8192), alt: text(image.alt, `${at}.alt`, 4096), width: size(image.width, 'width'), height: size(image.height, 'height') };
  });
  const title = text(p.title, `${where}.title`, 4096);
  const record = mergePage(undefined, { url, title, favicon, visitedAt: p.visitedAt, modelId: '', images }, 0);
  return { ...record, modelIds: [...new Set(modelIds)] };
}

function thumbnail(v: unknown, where: string): { sha256: string; blob: Blob } {
  const t = object(v, where);
  const sha256 = hash(t.sha256, `${where}.sha256`);
  const bytes = typeof t.data === 'string' ? base64ToBytes(t.data) : null;
  if (!bytes) throw new ImportError(`${where}.data is not base64`);
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: text(t.type, `${where}.type`, 100) });
  try {
    checkThumbnail(blob);
  } catch (e) {
    throw new ImportError(`${where}: ${(e as Error).message}`);
  }
  return { sha256, blob };
}

function labelSet(v: unknown, where: string): LabelSet {
  const s = object(v, where);
  return {
    name: text(s.name, `${where}.name`, LIMITS.labelChars, false),
    labels: list(s.labels, `${where}.labels`, LIMITS.labelsPerSet).map((l, i) => text(l, `${where}.labels[${i}]`, LIMITS.labelChars, false)),
  };
}
