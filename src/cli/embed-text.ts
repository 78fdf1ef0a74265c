// `embed-text --model FILE.onnx --bpe PATH [--context 77] [--raw] TEXT`: the text embedding of
// one text, computed with onnxruntime-node through the same tokenizer and session code as the
// extension. Unit-length, as the engine returns it; --raw prints the model's text_embeds row as is.

import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { TowerSession } from '../engine/session';
import { l2normalize } from '../engine/similarity';
import { ClipTokenizer, DEFAULT_CONTEXT_LENGTH } from '../engine/tokenizer';
import { parseCommandArgs, UsageError } from './args';
import { readModelFile } from './model-file';

export const usage =
  'embed-text --model FILE.onnx --bpe PATH [--context N] [--raw] TEXT   prints {"embedding": [...]}, unit-length unless --raw; PATH: bpe_simple_vocab_16e6.txt.gz or tokenizer.json';

export async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, {
    model: { type: 'string' },
    bpe: { type: 'string' },
    context: { type: 'string', default: String(DEFAULT_CONTEXT_LENGTH) },
    raw: { type: 'boolean', default: false },
  });
  if (!values.model) throw new UsageError('--model FILE.onnx is required');
  if (!values.bpe) throw new UsageError('--bpe PATH is required');
  const context = Number(values.context);
  if (!Number.isInteger(context) || context < 2) throw new UsageError(`--context must be an integer >= 2, got ${values.context}`);
  if (positionals.length !== 1) throw new UsageError('give exactly one TEXT (quote it if it has spaces)');

  const tokenizer = await ClipTokenizer.load(new Uint8Array(await readFile(values.bpe)));
  const ids = tokenizer.tokenizeBatch(positionals, context);
  const session = await TowerSession.open(ort, 'cpu', await readModelFile(values.model), {
    input: 'input_ids',
    output: 'text_embeds',
  });
  try {
    const [embedding] = await session.run(ids, 1, [context]);
    process.stdout.write(JSON.stringify({ embedding: Array.from(values.raw ? embedding : l2normalize(embedding)) }) + '\n');
  } finally {
    await session.release();
  }
}
