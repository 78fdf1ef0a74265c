// `embed-image --model FILE.onnx [--size 256] [--mean R,G,B --std R,G,B] [--raw] IN.png`: the
// image embedding of one PNG, computed with onnxruntime-node through the same preprocessing and
// session code as the extension. Unit-length, as the engine returns it; --raw prints the
// model's image_embeds row as is.

import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { decodePng } from '../engine/png';
import { preprocess } from '../engine/preprocess';
import { TowerSession } from '../engine/session';
import { l2normalize } from '../engine/similarity';
import { parseCommandArgs, UsageError } from './args';
import { readModelFile } from './model-file';

export const usage =
  'embed-image --model FILE.onnx [--size N] [--mean R,G,B --std R,G,B] [--raw] IN.png   prints {"embedding": [...]}, unit-length unless --raw; N defaults to 256';

function triple(name: string, value: string | undefined): [number, number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map(Number);
  if (parts.length !== 3 || !parts.every(Number.isFinite)) throw new UsageError(`--${name} takes three numbers R,G,B, got ${value}`);
  return parts as [number, number, number];
}

export async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, {
    model: { type: 'string' },
    size: { type: 'string', default: '256' },
    mean: { type: 'string' },
    std: { type: 'string' },
    raw: { type: 'boolean', default: false },
  });
  if (!values.model) throw new UsageError('--model FILE.onnx is required');
  const size = Number(values.size);
  if (!Number.isInteger(size) || size <= 0) throw new UsageError(`--size must be a positive integer, got ${values.size}`);
  const mean = triple('mean', values.mean);
  const std = triple('std', values.std);
  if (!mean !== !std) throw new UsageError('--mean and --std go together');
  if (positionals.length !== 1) throw new UsageError('give exactly one input PNG');

  const image = decodePng(new Uint8Array(await readFile(positionals[0])));
  const pixels = preprocess(image, { imageSize: size, mean, std });
  const session = await TowerSession.open(ort, 'cpu', await readModelFile(values.model), {
    input: 'pixel_values',
    output: 'image_embeds',
  });
  try {
    const [embedding] = await session.run(pixels, 1, [3, size, size]);
    process.stdout.write(JSON.stringify({ embedding: Array.from(values.raw ? embedding : l2normalize(embedding)) }) + '\n');
  } finally {
    await session.release();
  }
}
