// One-time cost of embedding a label set (every label × template prompt through the text tower,
// then the mean per label), on the MobileCLIP-S0 text replica (text_mct, random weights: speed
// only) with onnxruntime-node, through the extension's own path (LabelVectors, chunked).
//
// Run: npx tsx bench/labels.bench.ts [--skip-imagenet]

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as ortNode from 'onnxruntime-node';
import { archModelSpec, CLIP_BPE_PATH, ensureArchModels, readArchModel } from '../scripts/archmodels.ts';
import { ClipEngine } from '../src/engine/session.ts';
import { ClipTokenizer } from '../src/engine/tokenizer.ts';
import { builtInLabelSets } from '../src/engine/label-sets.ts';
import { LabelVectors } from '../src/background/label-vectors.ts';

const skipImagenet = process.argv.includes('--skip-imagenet');
ensureArchModels(['mci0', 'text_mct']);
const spec = archModelSpec('mci0', 'text_mct');
const files = { vision: readArchModel('mci0'), text: readArchModel('text_mct') };
const tokenizer = await ClipTokenizer.load(new Uint8Array(readFileSync(CLIP_BPE_PATH)));
const engine = await ClipEngine.create({ spec, ort: ortNode, loadFiles: async () => files, tokenizer, prefer: 'cpu' });
await engine.embedTexts(['warm-up']);

console.log(`text_mct replica, onnxruntime-node cpu, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
for (const set of builtInLabelSets({ ...spec, testOnly: false })) {
  if (skipImagenet && set.labels.length > 100) continue;
  const vectors = new LabelVectors({ load: async () => undefined, save: async () => undefined });
  const prompts = set.labels.length * set.templates.length;
  const start = performance.now();
  await vectors.vectors({ id: spec.id, embedTexts: (texts) => engine.embedTexts(texts) }, set);
  const ms = performance.now() - start;
  console.log(`${set.name}: ${set.labels.length} labels × ${set.templates.length} templates = ${prompts} prompts in ${(ms / 1000).toFixed(1)} s (${(ms / prompts).toFixed(2)} ms/prompt)`);
}
await engine.dispose();
