// Where onnxruntime-web's WASM inference time goes, operator by operator, against onnxruntime-node
// (the native kernels of the same ORT) on the same graph, batch and thread count, in the same run.
// Both profile one batch after untimed warm-up runs (ORT's own profiler: per node, kernel time);
// nodes are grouped by operator, and convolutions by kind (dense or depthwise, kernel size), with
// their multiply-accumulates per second. The question it answers: is there an operator whose WASM
// kernel is far slower than the SIMD width alone explains, which a graph rewrite could route
// around? (bench/README.md has the answer for the S0 image tower.)
//
// Run: npx tsx bench/ort-ops.bench.ts [--model mci0] [--batch 8] [--threads 1]

import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { ARCHMODELS_DIR, archModelMeta, ensureArchModels, readArchModel } from '../scripts/archmodels.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const model = option('model', 'mci0');
const batch = Number(option('batch', '8'));
const threads = Number(option('threads', '1'));
const WARM_UP_RUNS = 2;

interface TraceEvent {
  cat?: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

interface OpGroup {
  ms: number;
  nodes: number;
  /** Multiply-accumulates of the group's convolutions (0 for other operators). */
  macs: number;
}

const shapeOf = (shapes: Record<string, number[]>[] | undefined, i: number) => Object.values(shapes?.[i] ?? {})[0] ?? [];
const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** The last model run's nodes, grouped; the run's own duration. */
function groupProfile(events: TraceEvent[]): { runMs: number; groups: Map<string, OpGroup> } {
  const runs = events.filter((e) => e.name === 'model_run');
  const last = runs[runs.length - 1];
  if (!last) throw new Error('the profile has no model run');
  const groups = new Map<string, OpGroup>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < last.ts) continue;
    const op = e.args?.op_name ?? '?';
    let key = op === 'Erf' ? 'Gelu' : op;
    let macs = 0;
    if (op === 'Conv' || op === 'FusedConv') {
      const weight = shapeOf(e.args?.input_type_shape, 1);
      const output = shapeOf(e.args?.output_type_shape, 0);
      const depthwise = weight[1] === 1 && weight[0] > 1;
      key = `Conv ${depthwise ? 'depthwise' : 'dense'} ${weight[2]}x${weight[3]}`;
      macs = product(output) * product(weight.slice(1));
    }
    const g = groups.get(key) ?? { ms: 0, nodes: 0, macs: 0 };
    g.ms += e.dur / 1000;
    g.nodes++;
    g.macs += macs;
    groups.set(key, g);
  }
  return { runMs: last.dur / 1000, groups };
}

ensureArchModels([model]);
const bytes = readArchModel(model);
const size = archModelMeta(model).input_shape[3];
const dims = [batch, 3, size, size];
const pixels = new Float32Array(product(dims)).map((_, i) => ((i * 2654435761) % 1000) / 1000);

/** onnxruntime-web's WASM build prints its profile on standard output when profiling ends. */
async function webProfile(): Promise<TraceEvent[]> {
  ortWeb.env.wasm.numThreads = threads;
  const printed: string[] = [];
  // It writes to file descriptor 1 itself (its C++ stream), so it is caught there.
  const writeSync = fs.writeSync;
  fs.writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (fd !== 1) return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString();
    printed.push(text);
    return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  }) as typeof fs.writeSync;
  try {
    const session = await ortWeb.InferenceSession.create(bytes.model, {
      executionProviders: ['wasm'],
      externalData: bytes.externalData?.map((d) => ({ path: d.path, data: d.data })),
      enableProfiling: true,
    });
    const feeds = { [session.inputNames[0]]: new ortWeb.Tensor('float32', pixels, dims) };
    for (let i = 0; i <= WARM_UP_RUNS; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
  } finally {
    fs.writeSync = writeSync;
  }
  const text = printed.join('');
  const start = text.indexOf('[');
  if (start < 0) throw new Error('onnxruntime-web printed no profile');
  return JSON.parse(text.slice(start, text.lastIndexOf(']') + 1)) as TraceEvent[];
}

/** onnxruntime-node writes its profile to a file named after profileFilePrefix. */
async function nativeProfile(): Promise<TraceEvent[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ort-ops-'));
  try {
    const session = await ortNode.InferenceSession.create(join(ARCHMODELS_DIR, `${model}.onnx`), {
      intraOpNumThreads: threads,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'profile'),
    });
    const feeds = { [session.inputNames[0]]: new ortNode.Tensor('float32', pixels, dims) };
    for (let i = 0; i <= WARM_UP_RUNS; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime-node wrote no profile');
    return JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const web = groupProfile(await webProfile());
const native = groupProfile(await nativeProfile());
const webTotal = [...web.groups.values()].reduce((s, g) => s + g.ms, 0);
const rate = (g: OpGroup | undefined) => (g && g.macs && g.ms ? (g.macs / g.ms / 1e6).toFixed(1) : '');

console.log(`${model}, batch ${batch}, ${threads} thread(s), ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); the last of ${WARM_UP_RUNS + 1} runs each`);
console.log(`model run: onnxruntime-web (WASM) ${web.runMs.toFixed(0)} ms, onnxruntime-node ${native.runMs.toFixed(0)} ms: ${(web.runMs / native.runMs).toFixed(2)}x`);
const rows = [['operator', 'nodes', 'WASM ms', 'share', 'native ms', 'WASM / native', 'GMAC/s WASM', 'GMAC/s native']];
for (const [key, g] of [...web.groups].sort((a, b) => b[1].ms - a[1].ms)) {
  if (g.ms / webTotal < 0.002) continue;
  const n = native.groups.get(key);
  rows.push([key, String(g.nodes), g.ms.toFixed(1), `${((100 * g.ms) / webTotal).toFixed(1)}%`, n ? n.ms.toFixed(1) : '-', n ? (g.ms / n.ms).toFixed(1) : '-', rate(g), rate(n)]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
const nativeOnly = [...native.groups].filter(([key, g]) => !web.groups.has(key) && g.ms >= 1);
if (nativeOnly.length) console.log(`native only (its layout transforms): ${nativeOnly.map(([key, g]) => `${key} ${g.ms.toFixed(1)} ms`).join(', ')}`);
