// Generates the "fixture model": two tiny ONNX graphs with exactly the I/O contract of
// the MobileCLIP exports (Xenova/mobileclip_s0 layout) whose embeddings understand
// colours. Browser and Node tests use it to assert real rankings ("red" finds the red
// image) without the real weights, which cannot be downloaded in CI or tests.
//
// Vision tower: a soft colour histogram. Each 8x8 block of the image is assigned to
// colour prototypes by a sharp softmax over negative squared RGB distances; the mean
// assignment over the image is mixed into D dims by a fixed matrix whose rows are
// orthonormal colour directions. A mostly-red picture therefore leans to "red" even
// with other content in it, which a plain mean colour would blur into pink.
// Text tower: bag of words. A [49408, D] embedding table is gathered at input_ids and
// summed over the sequence; colour-word tokens hold their colour direction, other
// tokens small seeded noise (so different texts still differ), padding id 0 is zero.
// Both towers add a fixed offset orthogonal to all colour directions (image and text
// offsets also orthogonal to each other). That imitates CLIP's "modality gap": a
// matching pair scores a cosine of about 0.3 rather than 1, the range the real model
// produces, and the outputs are never unit-norm, like the real exports.
//
// Output is deterministic: a seeded PRNG, only correctly rounded arithmetic (no
// Math.sin/log, whose last bits may differ between engines) and a fixed encoder.
//
// CLI: npx tsx scripts/make-fixture-model.ts [OUTDIR]   (default: models/fixture)

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ClipTokenizer, EOT, SOT } from '../src/engine/tokenizer';
import { DataType, encodeModel, type OnnxModel } from './onnx-writer';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const DEFAULT_BPE = path.resolve(repoRoot, '../shared/clip-bpe/bpe_simple_vocab_16e6.txt.gz');
const BPE_NAME = 'bpe_simple_vocab_16e6.txt.gz';

/** Embedding size. Small keeps the token table (49408 x D floats) around 6 MB. */
export const EMBED_DIM = 32;
export const IMAGE_SIZE = 256;
export const CONTEXT_LENGTH = 77;
const VOCAB_SIZE = 49408;

/** Side of the square blocks averaged before colour assignment (256/8 = 32x32 blocks),
 *  which keeps the per-block softmax cheap enough for large batches in the browser. */
const BLOCK = 8;
/** Softmax sharpness over squared RGB distances: a pixel on a prototype keeps well over
 *  95% of its weight even when the nearest other colour is only 0.04 away (squared). */
const TEMPERATURE = 100;
/** Length of the modality-gap offsets; matching pairs then score 1 / (1 + GAP^2) ~ 0.31. */
const GAP = 1.5;
/** Approximate norm of a non-colour token's row: "a photo of something red" stays red. */
const NOISE_NORM = 0.15;
const SEED = 0x5eed_c11f;

/** Colour vocabulary: the words that name it and RGB prototypes in [0,1] (sRGB, as
 *  pixel_values arrive). Several prototypes per colour cover light/dark variants, e.g.
 *  CSS 'green' (0,0.5,0) as well as pure (0,1,0). Most words are one CLIP token; see
 *  colourTokenId for the others ('cyan'). */
export const COLOURS: readonly { name: string; words: readonly string[]; prototypes: readonly (readonly [number, number, number])[] }[] = [
  { name: 'red', words: ['red'], prototypes: [[1, 0, 0], [0.85, 0.05, 0.05]] },
  { name: 'orange', words: ['orange'], prototypes: [[1, 0.5, 0], [1, 0.65, 0]] },
  { name: 'yellow', words: ['yellow'], prototypes: [[1, 1, 0], [0.95, 0.9, 0.25]] },
  { name: 'green', words: ['green'], prototypes: [[0, 1, 0], [0, 0.5, 0], [0.2, 0.7, 0.2]] },
  { name: 'cyan', words: ['cyan', 'teal', 'turquoise', 'aqua'], prototypes: [[0, 1, 1], [0.25, 0.85, 0.85]] },
  { name: 'blue', words: ['blue', 'navy'], prototypes: [[0, 0, 1], [0, 0, 0.55], [0.2, 0.4, 0.9]] },
  { name: 'purple', words: ['purple', 'violet'], prototypes: [[0.5, 0, 0.5], [0.6, 0.2, 0.8]] },
  { name: 'pink', words: ['pink'], prototypes: [[1, 0.75, 0.8], [1, 0.41, 0.71]] },
  // CSS 'brown' (#a52a2a) is a dark red; it gets its own prototype so pages using it behave.
  { name: 'brown', words: ['brown'], prototypes: [[0.55, 0.27, 0.07], [0.4, 0.26, 0.13], [0.65, 0.16, 0.16]] },
  { name: 'black', words: ['black'], prototypes: [[0, 0, 0]] },
  { name: 'white', words: ['white'], prototypes: [[1, 1, 1]] },
  { name: 'gray', words: ['gray', 'grey', 'silver'], prototypes: [[0.5, 0.5, 0.5], [0.75, 0.75, 0.75], [0.3, 0.3, 0.3]] },
];

/** mulberry32: tiny seeded PRNG built from 32-bit integer ops, identical everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Roughly normal, mean 0, variance 1 (Irwin-Hall of 4 uniforms), without transcendental functions. */
function gaussianish(rand: () => number): number {
  return (rand() + rand() + rand() + rand() - 2) * Math.sqrt(3);
}

/** `count` orthonormal vectors of length `dim` (Gram-Schmidt on seeded random vectors). */
function orthonormalRows(count: number, dim: number, rand: () => number): number[][] {
  const rows: number[][] = [];
  while (rows.length < count) {
    const v = Array.from({ length: dim }, () => gaussianish(rand));
    for (const r of rows) {
      const dot = r.reduce((s, x, k) => s + x * v[k], 0);
      for (let k = 0; k < dim; k++) v[k] -= dot * r[k];
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (norm > 1e-6) rows.push(v.map((x) => x / norm));
  }
  return rows;
}

/** The token that carries a colour word's meaning. A bag of words cannot see bigrams, so a
 *  word BPE splits (cyan = 'cy' + 'an</w>') is carried by its first piece alone: the
 *  word-final rest ('an</w>', the article) must stay neutral, whereas the prefix 'cy' only
 *  starts rare words (cyst, cygnus) whose cyan tint is harmless in a fixture. */
function colourTokenId(tokenizer: ClipTokenizer, word: string): number {
  const single = tokenizer.tokenId(`${word}</w>`);
  if (single !== undefined) return single;
  const pieces = tokenizer.encode(word);
  if (pieces.length < 2) throw new Error(`colour word '${word}' does not tokenize`);
  return pieces[0];
}

interface Weights {
  /** [3, K]: 2 * T * prototype^T, so pixel @ W + b = -T * |pixel - prototype|^2 + (per-pixel constant). */
  protoW: Float32Array;
  /** [K]: -T * |prototype|^2. */
  protoB: Float32Array;
  /** [K, D]: row k = colour direction of prototype k's colour. */
  colourProj: Float32Array;
  /** [D]: image-side modality offset. */
  imageBias: Float32Array;
  /** [VOCAB, D] token embedding table. */
  tokenTable: Float32Array;
  /** Token id of each colour word, for fixture.json. */
  wordIds: Record<string, number>;
}

function buildWeights(tokenizer: ClipTokenizer): Weights {
  const rand = prng(SEED);
  const D = EMBED_DIM;
  // One direction per colour plus the two modality offsets, all mutually orthogonal.
  const dirs = orthonormalRows(COLOURS.length + 2, D, rand);
  const imageOffset = dirs[COLOURS.length].map((x) => x * GAP);
  const textOffset = dirs[COLOURS.length + 1].map((x) => x * GAP);

  const protos = COLOURS.flatMap((c, ci) => c.prototypes.map((p) => ({ p, ci })));
  const K = protos.length;
  const protoW = new Float32Array(3 * K);
  const protoB = new Float32Array(K);
  const colourProj = new Float32Array(K * D);
  protos.forEach(({ p, ci }, k) => {
    for (let ch = 0; ch < 3; ch++) protoW[ch * K + k] = 2 * TEMPERATURE * p[ch];
    protoB[k] = -TEMPERATURE * (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    colourProj.set(dirs[ci], k * D);
  });

  // Every row gets noise first (drawn in id order, so ids never shift the stream),
  // then special rows are overwritten.
  const tokenTable = new Float32Array(VOCAB_SIZE * D);
  const noiseScale = NOISE_NORM / Math.sqrt(D);
  for (let i = 0; i < tokenTable.length; i++) tokenTable[i] = gaussianish(rand) * noiseScale;
  // Padding (id 0, which is also the token '!') must add nothing to the sum.
  tokenTable.fill(0, 0, D);
  // Every encoded text has exactly one SOT and one EOT: together they carry the text offset.
  tokenTable.set(textOffset.map((x) => x / 2), SOT * D);
  tokenTable.set(textOffset.map((x) => x / 2), EOT * D);

  const wordIds: Record<string, number> = {};
  COLOURS.forEach((c, ci) => {
    for (const word of c.words) {
      const id = colourTokenId(tokenizer, word);
      if (id === SOT || id === EOT || id === 0 || Object.values(wordIds).includes(id)) {
        throw new Error(`colour word '${word}' maps to token ${id}, which is special or already taken`);
      }
      wordIds[word] = id;
      tokenTable.set(dirs[ci], id * D);
    }
  });

  return {
    protoW,
    protoB,
    colourProj,
    imageBias: Float32Array.from(imageOffset),
    tokenTable,
    wordIds,
  };
}

const MODEL_DOC =
  'MobileCLIP-contract TEST FIXTURE generated by scripts/make-fixture-model.ts: colour-only ' +
  'embeddings, not a real model.';

function visionModel(w: Weights): OnnxModel {
  const K = w.protoB.length;
  return {
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'mobileclip-lens make-fixture-model',
    docString: MODEL_DOC,
    graph: {
      name: 'fixture_vision',
      nodes: [
        // Block means: [N,3,256,256] -> [N,3,32,32].
        { opType: 'AveragePool', inputs: ['pixel_values'], outputs: ['blocks'], attributes: { kernel_shape: { ints: [BLOCK, BLOCK] }, strides: { ints: [BLOCK, BLOCK] } } },
        { opType: 'Transpose', inputs: ['blocks'], outputs: ['blocks_nhwc'], attributes: { perm: { ints: [0, 2, 3, 1] } } },
        // -T * squared distance to each prototype (up to a per-block constant softmax ignores).
        { opType: 'MatMul', inputs: ['blocks_nhwc', 'proto_w'], outputs: ['proto_dot'] },
        { opType: 'Add', inputs: ['proto_dot', 'proto_b'], outputs: ['proto_logits'] },
        { opType: 'Softmax', inputs: ['proto_logits'], outputs: ['proto_assign'], attributes: { axis: { i: -1 } } },
        // Soft histogram over prototypes: [N,K].
        { opType: 'ReduceMean', inputs: ['proto_assign'], outputs: ['histogram'], attributes: { axes: { ints: [1, 2] }, keepdims: { i: 0 } } },
        { opType: 'MatMul', inputs: ['histogram', 'colour_proj'], outputs: ['colour_embeds'] },
        { opType: 'Add', inputs: ['colour_embeds', 'image_offset'], outputs: ['image_embeds'] },
      ],
      initializers: [
        { name: 'proto_w', dims: [3, K], data: w.protoW },
        { name: 'proto_b', dims: [K], data: w.protoB },
        { name: 'colour_proj', dims: [K, EMBED_DIM], data: w.colourProj },
        { name: 'image_offset', dims: [EMBED_DIM], data: w.imageBias },
      ],
      inputs: [{ name: 'pixel_values', elemType: DataType.FLOAT, shape: ['batch_size', 3, IMAGE_SIZE, IMAGE_SIZE] }],
      outputs: [{ name: 'image_embeds', elemType: DataType.FLOAT, shape: ['batch_size', EMBED_DIM] }],
    },
  };
}

function textModel(w: Weights): OnnxModel {
  return {
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'mobileclip-lens make-fixture-model',
    docString: MODEL_DOC,
    graph: {
      name: 'fixture_text',
      nodes: [
        { opType: 'Gather', inputs: ['token_embedding', 'input_ids'], outputs: ['token_embeds'], attributes: { axis: { i: 0 } } },
        // Sum over the sequence. Equivalent to the real model's "everything up to EOT"
        // for well-formed input, since only 0 padding (a zero row) follows EOT.
        { opType: 'ReduceSum', inputs: ['token_embeds', 'sum_axes'], outputs: ['text_embeds'], attributes: { keepdims: { i: 0 } } },
      ],
      initializers: [
        { name: 'token_embedding', dims: [VOCAB_SIZE, EMBED_DIM], data: w.tokenTable },
        { name: 'sum_axes', dims: [1], data: BigInt64Array.of(1n) },
      ],
      inputs: [{ name: 'input_ids', elemType: DataType.INT64, shape: ['batch_size', CONTEXT_LENGTH] }],
      outputs: [{ name: 'text_embeds', elemType: DataType.FLOAT, shape: ['batch_size', EMBED_DIM] }],
    },
  };
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Hash of everything the output depends on: generator sources and the merges file. */
async function generatorHash(bpe: Uint8Array): Promise<string> {
  const h = createHash('sha256');
  for (const rel of ['scripts/make-fixture-model.ts', 'scripts/onnx-writer.ts', 'src/engine/tokenizer.ts']) {
    h.update(`${rel}\0`).update(await readFile(path.join(repoRoot, rel))).update('\0');
  }
  h.update(`${BPE_NAME}\0`).update(bpe);
  return h.digest('hex');
}

interface FixtureManifest {
  generatorHash: string;
  files: Record<string, { sha256: string; bytes: number }>;
}

/** True when fixture.json matches the current generator and every file it lists is intact. */
async function upToDate(outDir: string, hash: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(path.join(outDir, 'fixture.json'), 'utf8')) as FixtureManifest;
    if (manifest.generatorHash !== hash) return false;
    for (const [rel, { sha256: want }] of Object.entries(manifest.files)) {
      if (sha256(await readFile(path.join(outDir, rel))) !== want) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Write via a temporary name so an interrupted run never leaves a half file under the real one. */
async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

/** Writes OUTDIR/{onnx/vision_model.onnx, onnx/text_model.onnx, bpe_simple_vocab_16e6.txt.gz,
 *  fixture.json}; does nothing when they are already up to date. */
export async function makeFixtureModel(outDir: string, opts: { bpePath?: string } = {}): Promise<void> {
  const bpe = new Uint8Array(await readFile(opts.bpePath ?? DEFAULT_BPE));
  const hash = await generatorHash(bpe);
  if (await upToDate(outDir, hash)) return;

  const tokenizer = await ClipTokenizer.load(bpe);
  const weights = buildWeights(tokenizer);
  const outputs: [string, Uint8Array][] = [
    ['onnx/vision_model.onnx', encodeModel(visionModel(weights))],
    ['onnx/text_model.onnx', encodeModel(textModel(weights))],
    [BPE_NAME, bpe],
  ];
  const files: FixtureManifest['files'] = {};
  for (const [rel, bytes] of outputs) {
    await writeAtomic(path.join(outDir, rel), bytes);
    files[rel] = { sha256: sha256(bytes), bytes: bytes.length };
  }

  // Written last: its presence with a matching hash is what marks the outputs complete.
  const manifest = {
    note:
      'TEST FIXTURE, not a real model: generated by scripts/make-fixture-model.ts with the MobileCLIP ' +
      'ONNX I/O contract. Embeddings only encode colour (image: colour histogram; text: colour words), ' +
      'so tests can assert rankings without the real weights. Never ship it as a model.',
    embedDim: EMBED_DIM,
    imageSize: IMAGE_SIZE,
    contextLength: CONTEXT_LENGTH,
    inputs: { vision: 'pixel_values float32 [N,3,256,256], RGB in [0,1], no mean/std', text: 'input_ids int64 [N,77]' },
    outputs: { vision: `image_embeds float32 [N,${EMBED_DIM}]`, text: `text_embeds float32 [N,${EMBED_DIM}]`, normalised: false },
    // Cosine of a solid colour image with its one-word colour text; unrelated colours score about 0.
    matchedCosine: 1 / (1 + GAP * GAP),
    colours: COLOURS.map((c) => ({
      name: c.name,
      words: c.words,
      tokenIds: c.words.map((w) => weights.wordIds[w]),
      prototypes: c.prototypes,
    })),
    tokenizer: BPE_NAME,
    files,
    generatorHash: hash,
  } satisfies FixtureManifest & Record<string, unknown>;
  await writeAtomic(path.join(outDir, 'fixture.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, 'models/fixture'));
  makeFixtureModel(outDir).then(
    () => console.log(`fixture model ready in ${path.relative(process.cwd(), outDir) || '.'}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
