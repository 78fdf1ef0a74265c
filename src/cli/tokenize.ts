// `tokenize --bpe PATH TEXT...`: CLIP token ids, one JSON line per text, in the layout of
// ../shared/refs/clip-tokenizer-cases.json so the two can be compared line by line.

import { readFile } from 'node:fs/promises';
import { ClipTokenizer } from '../engine/tokenizer';
import { parseCommandArgs, UsageError } from './args';

export const usage = 'tokenize --bpe PATH TEXT...   PATH: bpe_simple_vocab_16e6.txt.gz or tokenizer.json';

export async function run(args: string[]): Promise<void> {
  const { values, positionals: texts } = parseCommandArgs(args, { bpe: { type: 'string' } });
  if (!values.bpe) throw new UsageError('--bpe PATH is required');
  if (texts.length === 0) throw new UsageError('give at least one TEXT');

  const tokenizer = await ClipTokenizer.load(new Uint8Array(await readFile(values.bpe)));
  const lines = texts.map((text) => JSON.stringify({ text, input_ids: Array.from(tokenizer.tokenize(text)) }));
  process.stdout.write(lines.join('\n') + '\n');
}
