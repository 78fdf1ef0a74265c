// `preprocess --size 256 IN.png OUT.rgb`: the pixels the engine feeds the image tower (x255),
// as size*size*3 uint8 RGB in HWC order, i.e. the layout of ../shared/refs/preprocess/*.rgb,
// so the two can be compared byte for byte.

import { readFile, writeFile } from 'node:fs/promises';
import { decodePng } from '../engine/png';
import { resizeAndCrop, type Background } from '../engine/preprocess';
import { parseCommandArgs, UsageError } from './args';

export const usage =
  'preprocess [--size N] [--background white|black] IN.png OUT.rgb   N defaults to 256; writes N*N*3 uint8 RGB (HWC)';

const BACKGROUNDS: readonly Background[] = ['white', 'black'];

export async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, {
    size: { type: 'string', default: '256' },
    background: { type: 'string', default: 'white' },
  });
  const size = Number(values.size);
  if (!Number.isInteger(size) || size <= 0) throw new UsageError(`--size must be a positive integer, got ${values.size}`);
  const background = values.background as Background;
  if (!BACKGROUNDS.includes(background)) throw new UsageError(`--background must be white or black, got ${values.background}`);
  if (positionals.length !== 2) throw new UsageError('give exactly one input PNG and one output path');
  const [input, output] = positionals;

  const image = decodePng(new Uint8Array(await readFile(input)));
  await writeFile(output, resizeAndCrop(image, size, { background }));
}
