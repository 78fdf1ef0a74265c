// ModelStore on the local file system, for the CLI, scripts and Node tests. Node-only: browser code
// must not import this module.
//
// A key `a/b/c.onnx` is the file `<root>/a/b/c.onnx`, so with keyPrefix `<model id>` the root
// `models/` gets exactly the repo layout under `models/<id>/` that the extension build bundles.
// Unfinished downloads live beside it as `c.onnx.part` (bytes, appended) and `c.onnx.part.json`
// (the validator naming the file version the bytes belong to).

import { appendFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

import type { Backend, ModelSpec } from '../types.ts';
import { readModelFiles } from './bundled.ts';
import type { ModelFiles } from './manifest.ts';
import type { ModelStore, PartialDownload } from './store.ts';

const PART = '.part';
const PART_META = '.part.json';

export class FsModelStore implements ModelStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return readOptional(this.path(key));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.path(key);
    await mkdir(parentOf(file), { recursive: true });
    // Write then rename, so a crash never leaves a truncated file under the final name.
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }

  async delete(key: string): Promise<void> {
    const file = this.path(key);
    await Promise.all([rm(file, { force: true }), this.deletePartial(key)]);
  }

  async getPartial(key: string): Promise<PartialDownload | undefined> {
    const file = this.path(key);
    const meta = await readOptional(file + PART_META);
    if (!meta) return undefined;
    let validator: unknown;
    try {
      validator = (JSON.parse(new TextDecoder().decode(meta)) as { validator?: unknown }).validator;
    } catch {
      return undefined;
    }
    if (typeof validator !== 'string') return undefined;
    const bytes = (await readOptional(file + PART)) ?? new Uint8Array(0);
    return { validator, chunks: bytes.length ? [bytes] : [] };
  }

  async startPartial(key: string, validator: string): Promise<void> {
    const file = this.path(key);
    await mkdir(parentOf(file), { recursive: true });
    await writeFile(file + PART, new Uint8Array(0));
    await writeFile(file + PART_META, JSON.stringify({ validator }));
  }

  async appendPartial(key: string, chunk: Uint8Array): Promise<void> {
    await appendFile(this.path(key) + PART, chunk);
  }

  async deletePartial(key: string): Promise<void> {
    const file = this.path(key);
    await Promise.all([rm(file + PART, { force: true }), rm(file + PART_META, { force: true })]);
  }

  async keys(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (!e.name.endsWith(PART) && !e.name.endsWith(PART_META) && !e.name.includes('.tmp-')) {
          out.push(relative(this.root, full).split(sep).join('/'));
        }
      }
    };
    await walk(this.root);
    return out.sort();
  }

  /** Maps a key to a path inside the root; keys that would escape it are refused. */
  private path(key: string): string {
    const parts = key.split('/');
    if (!key || parts.some((p) => p === '' || p === '.' || p === '..') || key.includes('\\')) {
      throw new Error(`invalid model store key: ${JSON.stringify(key)}`);
    }
    return join(this.root, ...parts);
  }
}

/**
 * Reads a model laid out as `dir/<repo paths>` (what `npm run models:fetch` writes to
 * `models/<id>/`, or a generated fixture) without any network.
 */
export function loadModelFromDir(spec: ModelSpec, dir: string, backend: Backend): Promise<ModelFiles> {
  const root = resolve(dir);
  return readModelFiles(spec, backend, (path) => readOptional(join(root, ...path.split('/'))), root);
}

async function readOptional(file: string): Promise<Uint8Array | undefined> {
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function parentOf(file: string): string {
  return resolve(file, '..');
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
