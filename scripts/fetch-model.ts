// npm run models:fetch -- <id> [--base URL] [--backend wasm|webgpu|all] [--revision REV] [--out DIR]
//
// Downloads a registry model into `<out>/<id>/` (default out: models/) with the same layout as its
// Hugging Face repo, plus manifest.json, using the extension's own download code (hash checks,
// resume, stall timeout). The build bundles `models/<id>/` and loadBundledModel reads it back.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { downloadModel, type DownloadProgress, ModelDownloadError } from '../src/engine/hub/model-files.ts';
import { FsModelStore } from '../src/engine/hub/store-fs.ts';
import { MODELS, requireModel } from '../src/engine/registry.ts';
import type { Backend } from '../src/engine/types.ts';

export interface FetchModelOptions {
  id: string;
  baseUrl?: string;
  backend: Backend | 'all';
  revision?: string;
  outDir: string;
  stallTimeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface FetchModelResult {
  /** Directory holding the model (`<outDir>/<id>`). */
  dir: string;
  /** Repo-relative paths written, manifest excluded. */
  files: string[];
}

export async function fetchModel(o: FetchModelOptions): Promise<FetchModelResult> {
  const spec = requireModel(o.id);
  const store = new FsModelStore(o.outDir);
  const backends: Backend[] = o.backend === 'all' ? ['wasm', 'webgpu'] : [o.backend];
  const manifest = await downloadModel(spec, backends, {
    store,
    baseUrl: o.baseUrl,
    revision: o.revision,
    keyPrefix: spec.id, // files land in <outDir>/<id>/<repo path>
    onProgress: o.onProgress,
    signal: o.signal,
    stallTimeoutMs: o.stallTimeoutMs,
    retries: o.retries,
    retryDelayMs: o.retryDelayMs,
  });
  return { dir: join(store.root, spec.id), files: Object.keys(manifest.files) };
}

const USAGE = `usage: npm run models:fetch -- <id> [--base URL] [--backend wasm|webgpu|all] [--revision REV] [--out DIR]
models: ${MODELS.map((m) => m.id).join(', ')}`;

/** Parses the command line; throws a usage message on anything it does not understand. */
export function parseArgs(argv: string[]): FetchModelOptions {
  const o: FetchModelOptions = { id: '', backend: 'all', outDir: 'models' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--base') o.baseUrl = value();
    else if (a === '--revision') o.revision = value();
    else if (a === '--out') o.outDir = value();
    else if (a === '--backend') {
      const b = value();
      if (b !== 'wasm' && b !== 'webgpu' && b !== 'all') throw new Error(`--backend must be wasm, webgpu or all\n${USAGE}`);
      o.backend = b;
    } else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else if (!o.id) o.id = a;
    else throw new Error(`unexpected argument ${a}\n${USAGE}`);
  }
  if (!o.id) throw new Error(USAGE);
  return o;
}

/** One status line: rewritten in place on a terminal, one line per finished file otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream): (p: DownloadProgress) => void {
  let lastDraw = 0;
  return (p) => {
    const overall = p.total ? `${mb(p.loaded)}/${mb(p.total)} (${Math.floor((p.loaded / p.total) * 100)}%)` : mb(p.loaded);
    const file = p.fileTotal ? `${mb(p.fileLoaded)}/${mb(p.fileTotal)}` : mb(p.fileLoaded);
    const line = `${p.fileDone ? 'ok  ' : '... '}${p.file}  ${file}   total ${overall}`;
    if (stream.isTTY) {
      const now = Date.now();
      if (!p.fileDone && now - lastDraw < 100) return; // redraw at most 10 times a second
      lastDraw = now;
      stream.write(`\r\x1b[K${line}${p.fileDone ? '\n' : ''}`);
    } else if (p.fileDone) {
      stream.write(`${line}\n`);
    }
  };
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  let options: FetchModelOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const ctrl = new AbortController();
  process.once('SIGINT', () => ctrl.abort(new Error('interrupted; run the same command again to resume')));
  try {
    const result = await fetchModel({ ...options, onProgress: progressPrinter(process.stderr), signal: ctrl.signal });
    console.log(`${options.id}: ${result.files.length} files in ${result.dir}`);
  } catch (err) {
    if (err instanceof ModelDownloadError && err.code === 'network') {
      console.error(`\nerror: ${err.message}\nAre you offline? Partial downloads are kept; rerun to resume.`);
    } else {
      console.error(`\nerror: ${(err as Error)?.message ?? err}`);
    }
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
