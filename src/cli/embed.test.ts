// embed-image / embed-text as people run them (a separate process), checked against the
// engine API on the same replica models (random weights; only agreement is checked). By
// default they print what the engine returns (unit-length rows); --raw prints the model's own.

import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archModelSpec, CLIP_BPE_PATH, ensureArchModels, readArchModel } from '../../scripts/archmodels.ts';
import { decodePng } from '../engine/png.ts';
import { preprocess } from '../engine/preprocess.ts';
import { ClipEngine, TowerSession } from '../engine/session.ts';
import { l2normalize, norm } from '../engine/similarity.ts';
import { ClipTokenizer } from '../engine/tokenizer.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PNG = path.resolve(repoRoot, '../shared/refs/preprocess/landscape.png');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', ...args], {
      cwd: repoRoot,
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

function parseEmbedding(stdout: string): Float32Array {
  const parsed = JSON.parse(stdout) as { embedding: number[] };
  return Float32Array.from(parsed.embedding);
}

let dir: string;
let engine: ClipEngine;
let tmp: string;

beforeAll(async () => {
  dir = ensureArchModels(['mci0', 'text_mct']);
  tmp = await mkdtemp(path.join(tmpdir(), 'cli-embed-'));
  const tokenizer = await ClipTokenizer.load(new Uint8Array(await readFile(CLIP_BPE_PATH)));
  const files = { vision: readArchModel('mci0'), text: readArchModel('text_mct') };
  engine = await ClipEngine.create({
    spec: archModelSpec('mci0', 'text_mct'),
    ort: ortNode,
    loadFiles: async () => files,
    tokenizer,
    prefer: 'cpu',
  });
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('cli embed-image / embed-text', () => {
  it('embed-image prints the unit-length image embedding the engine computes', async () => {
    const { code, stdout, stderr } = await cli('embed-image', '--model', path.join(dir, 'mci0.onnx'), PNG);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const fromCli = parseEmbedding(stdout);
    const pixels = preprocess(decodePng(new Uint8Array(await readFile(PNG))), { imageSize: 256 });
    const [expected] = await engine.embedImages(pixels, 1);
    // Same runtime, same code, same input: the same numbers (JSON carries float32 exactly).
    expect(Array.from(fromCli)).toEqual(Array.from(expected));
  }, 60_000);

  it('embed-image --raw prints the model output as is: the engine row is its unit vector', async () => {
    const { code, stdout } = await cli('embed-image', '--raw', '--model', path.join(dir, 'mci0.onnx'), PNG);
    expect(code).toBe(0);
    const raw = parseEmbedding(stdout);
    const pixels = preprocess(decodePng(new Uint8Array(await readFile(PNG))), { imageSize: 256 });
    const session = await TowerSession.open(ortNode, 'cpu', readArchModel('mci0'), { input: 'pixel_values', output: 'image_embeds' });
    try {
      const [direct] = await session.run(pixels, 1, [3, 256, 256]);
      expect(Array.from(raw)).toEqual(Array.from(direct));
    } finally {
      await session.release();
    }
    expect(Math.abs(norm(raw) - 1)).toBeGreaterThan(1e-3); // not normalised
    const [expected] = await engine.embedImages(pixels, 1);
    expect(Array.from(l2normalize(raw))).toEqual(Array.from(expected));
  }, 60_000);

  it('embed-text prints the unit-length text embedding the engine computes', async () => {
    const text = 'a diagram of a sailing boat';
    const { code, stdout } = await cli('embed-text', '--model', path.join(dir, 'text_mct.onnx'), '--bpe', CLIP_BPE_PATH, text);
    expect(code).toBe(0);
    const [expected] = await engine.embedTexts([text]);
    expect(Array.from(parseEmbedding(stdout))).toEqual(Array.from(expected));
    const raw = parseEmbedding((await cli('embed-text', '--raw', '--model', path.join(dir, 'text_mct.onnx'), '--bpe', CLIP_BPE_PATH, text)).stdout);
    expect(Math.abs(norm(raw) - 1)).toBeGreaterThan(1e-3);
    expect(Array.from(l2normalize(raw))).toEqual(Array.from(expected));
  }, 60_000);

  it('names the external-data file it cannot find', async () => {
    const lonely = path.join(tmp, 'mci0.onnx');
    await copyFile(path.join(dir, 'mci0.onnx'), lonely); // without mci0.bin beside it
    const { code, stderr } = await cli('embed-image', '--model', lonely, PNG);
    expect(code).toBe(1);
    expect(stderr).toMatch(/keeps weights in 'mci0.bin'/);
  }, 60_000);

  it('reports usage errors with exit code 2', async () => {
    const noModel = await cli('embed-image', PNG);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/--model FILE.onnx is required/);
    const twoTexts = await cli('embed-text', '--model', 'x.onnx', '--bpe', CLIP_BPE_PATH, 'a', 'b');
    expect(twoTexts.code).toBe(2);
    expect(twoTexts.stderr).toMatch(/exactly one TEXT/);
  }, 60_000);
});
