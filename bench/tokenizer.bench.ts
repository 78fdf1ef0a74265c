// Tokenizer speed: load time of the merges file, and a 20-word query tokenised with a warm word
// cache (the usual case: people retype similar words) against never-seen words (the baseline:
// every word goes through BPE merging), in the same process.
// Run: npx tsx bench/tokenizer.bench.ts [iterations]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClipTokenizer } from '../src/engine/tokenizer';

const iterations = Number(process.argv[2] ?? 200);
const bytes = new Uint8Array(readFileSync(resolve(import.meta.dirname, '../../shared/clip-bpe/bpe_simple_vocab_16e6.txt.gz')));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const loads: number[] = [];
let tokenizer!: ClipTokenizer;
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  tokenizer = await ClipTokenizer.load(bytes);
  loads.push(performance.now() - t0);
}

const query = 'a person riding a red bicycle on a mountain trail at sunset with a small dog running beside them happily';
const words = query.split(' ').length;
const warm: number[] = [];
tokenizer.tokenize(query);
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  tokenizer.tokenize(query);
  warm.push(performance.now() - t0);
}
// Never-seen words: made-up words force BPE merging for every word.
const cold: number[] = [];
for (let i = 0; i < iterations; i++) {
  const fresh = Array.from({ length: words }, (_, w) => `zq${(i * words + w).toString(36)}xv`).join(' ');
  const t0 = performance.now();
  tokenizer.tokenize(fresh);
  cold.push(performance.now() - t0);
}
console.log(`load merges (.txt.gz): median ${median(loads).toFixed(1)} ms over ${loads.length} loads`);
console.log(`${words}-word query, warm word cache: median ${(median(warm) * 1000).toFixed(1)} µs`);
console.log(`${words}-word query, never-seen words (baseline): median ${(median(cold) * 1000).toFixed(1)} µs`);
console.log(`warm / baseline: ${(median(warm) / median(cold)).toFixed(3)}`);
