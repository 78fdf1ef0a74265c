// CLIP byte-level BPE tokenizer, matching the reference tokenizer MobileCLIP is trained with
// (OpenAI CLIP simple_tokenizer, as in open_clip): the same text clean-up, pre-tokenizer,
// vocabulary order, merge ranks, special tokens, padding and truncation, so the text tower
// sees exactly the ids it was trained on.

import { cleanClipText, PYTHON_WHITESPACE } from './text-clean';

export const SOT = 49406,
  EOT = 49407;
export const DEFAULT_CONTEXT_LENGTH = 77;

const SOT_TEXT = '<|startoftext|>';
const EOT_TEXT = '<|endoftext|>';
const END_OF_WORD = '</w>';
/** The reference keeps merges[1 : 49152-256-2+1] of the merges file (line 0 is a version
 *  header), so that 256 bytes + 256 end-of-word bytes + merges + 2 specials = 49408. */
const MERGE_COUNT = 49152 - 256 - 2;
/** Bounds the per-word BPE cache of a long-lived tokenizer (e.g. in a service worker). */
const MAX_CACHED_WORDS = 50_000;

/** The reference pre-tokenizer. Whitespace is spelled out as Python's, because the
 *  reference runs on Python strings, where U+FEFF is not whitespace. The 'i' flag mirrors
 *  the reference's re.IGNORECASE (text is lower-cased before, so it rarely matters). */
const PRE_TOKENIZER = new RegExp(
  String.raw`<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|` +
    `[^${PYTHON_WHITESPACE}\\p{L}\\p{N}]+`,
  'giu',
);

/** GPT-2's reversible byte → printable character table: printable Latin-1 bytes stand for
 *  themselves, the other 68 bytes take characters from U+0100 upwards. `bytesInVocabOrder`
 *  is the order in which the reference lists them as the first 256 vocabulary entries. */
function byteLevelAlphabet(): { charOfByte: string[]; bytesInVocabOrder: number[] } {
  const isPrintable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const charOfByte: string[] = new Array(256);
  const bytesInVocabOrder: number[] = [];
  for (let b = 0; b < 256; b++) {
    if (isPrintable(b)) {
      bytesInVocabOrder.push(b);
      charOfByte[b] = String.fromCharCode(b);
    }
  }
  let next = 256;
  for (let b = 0; b < 256; b++) {
    if (!isPrintable(b)) {
      bytesInVocabOrder.push(b);
      charOfByte[b] = String.fromCharCode(next++);
    }
  }
  return { charOfByte, bytesInVocabOrder };
}

const BYTE_ALPHABET = byteLevelAlphabet();
const utf8 = new TextEncoder();

function mergeKey(left: string, right: string): string {
  // Symbols are byte-alphabet strings (plus '</w>'), which never contain a space.
  return left + ' ' + right;
}

interface TokenizerJsonModel {
  type?: string;
  vocab?: Record<string, number>;
  merges?: (string | [string, string])[];
  end_of_word_suffix?: string | null;
}

interface TokenizerJson {
  model?: TokenizerJsonModel;
  added_tokens?: { id: number; content: string }[];
}

export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly mergeRanks: ReadonlyMap<string, number>;
  /** Pre-tokenized word (before byte mapping) → its BPE ids. */
  private readonly wordCache = new Map<string, number[]>();

  private constructor(vocab: Map<string, number>, mergeRanks: Map<string, number>) {
    const sot = vocab.get(SOT_TEXT);
    const eot = vocab.get(EOT_TEXT);
    if (sot === undefined || eot === undefined) {
      throw new Error(`tokenizer vocabulary lacks ${SOT_TEXT} or ${EOT_TEXT}`);
    }
    this.vocab = vocab;
    this.mergeRanks = mergeRanks;
    this.sotId = sot;
    this.eotId = eot;
    // V8 compiles the pre-tokenizer's case-insensitive Unicode classes on first use (~1 ms);
    // pay that while loading instead of on the first query.
    this.encode("warm-up: it's 1");
  }

  /** From the text of OpenAI's bpe_simple_vocab_16e6.txt (already gunzipped). */
  static fromMerges(mergesText: string): ClipTokenizer {
    const merges = parseMergeLines(mergesText);
    const byteSymbols = BYTE_ALPHABET.bytesInVocabOrder.map((b) => BYTE_ALPHABET.charOfByte[b]);
    const symbols = [
      ...byteSymbols,
      ...byteSymbols.map((s) => s + END_OF_WORD),
      ...merges.map(([left, right]) => left + right),
      SOT_TEXT,
      EOT_TEXT,
    ];
    // Like the reference's dict(zip(vocab, range(...))), a repeated symbol keeps its last id.
    const vocab = new Map<string, number>();
    symbols.forEach((symbol, id) => vocab.set(symbol, id));
    return new ClipTokenizer(vocab, rankMerges(merges));
  }

  /** From a Hugging Face tokenizer.json of a CLIP model (BPE with '</w>' word ends). */
  static fromTokenizerJson(json: string | object): ClipTokenizer {
    const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as TokenizerJson;
    const model = parsed.model;
    if (!model || (model.type !== undefined && model.type !== 'BPE') || !model.vocab || !model.merges) {
      throw new Error('tokenizer.json has no BPE model with vocab and merges');
    }
    if (model.end_of_word_suffix != null && model.end_of_word_suffix !== END_OF_WORD) {
      throw new Error(`not a CLIP tokenizer: end_of_word_suffix is ${JSON.stringify(model.end_of_word_suffix)}`);
    }
    const vocab = new Map<string, number>(Object.entries(model.vocab));
    for (const added of parsed.added_tokens ?? []) {
      if (!vocab.has(added.content)) vocab.set(added.content, added.id);
    }
    const merges = model.merges.map((merge, index) => {
      const pair = typeof merge === 'string' ? merge.split(' ') : merge;
      if (pair.length !== 2) throw new Error(`tokenizer.json merge ${index} is not a pair: ${JSON.stringify(merge)}`);
      return pair as [string, string];
    });
    return new ClipTokenizer(vocab, rankMerges(merges));
  }

  /** From file bytes: gzip (the .txt.gz merges), a tokenizer.json, or plain merges text. */
  static async load(bytes: Uint8Array): Promise<ClipTokenizer> {
    const isGzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    const text = isGzip ? await gunzipText(bytes) : new TextDecoder().decode(bytes);
    return looksLikeJson(text) ? ClipTokenizer.fromTokenizerJson(text) : ClipTokenizer.fromMerges(text);
  }

  /** BPE ids of `text`, without SOT/EOT. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanClipText(text).toLowerCase().matchAll(PRE_TOKENIZER)) {
      for (const id of this.wordIds(match[0])) ids.push(id);
    }
    return ids;
  }

  /** `contextLength` ids: SOT, the text's ids, EOT, then 0 padding. Text that does not fit
   *  is cut so that EOT stays last, as the text tower pools at the EOT position. */
  tokenize(text: string, contextLength = DEFAULT_CONTEXT_LENGTH): Int32Array {
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new RangeError(`contextLength must be an integer >= 2, got ${contextLength}`);
    }
    const ids = this.encode(text);
    const kept = Math.min(ids.length, contextLength - 2);
    const row = new Int32Array(contextLength);
    row[0] = this.sotId;
    for (let i = 0; i < kept; i++) row[i + 1] = ids[i];
    row[kept + 1] = this.eotId;
    return row;
  }

  /** Row-major [texts.length, contextLength] ids for an ORT int64 tensor. */
  tokenizeBatch(texts: string[], contextLength = DEFAULT_CONTEXT_LENGTH): BigInt64Array {
    const batch = new BigInt64Array(texts.length * contextLength);
    texts.forEach((text, row) => {
      const ids = this.tokenize(text, contextLength);
      for (let i = 0; i < contextLength; i++) batch[row * contextLength + i] = BigInt(ids[i]);
    });
    return batch;
  }

  /** Id of a vocabulary entry in its byte-alphabet spelling, e.g. tokenId('red</w>'). */
  tokenId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  private wordIds(word: string): number[] {
    // The reference seeds its BPE cache with the two special strings, so typing them in a
    // text yields the special ids themselves.
    if (word === SOT_TEXT) return [this.sotId];
    if (word === EOT_TEXT) return [this.eotId];
    const cached = this.wordCache.get(word);
    if (cached) return cached;

    let byteChars = '';
    for (const b of utf8.encode(word)) byteChars += BYTE_ALPHABET.charOfByte[b];
    const ids = this.bpe(byteChars).map((symbol) => {
      const id = this.vocab.get(symbol);
      if (id === undefined) throw new Error(`BPE produced ${JSON.stringify(symbol)}, which is not in the vocabulary`);
      return id;
    });

    if (this.wordCache.size >= MAX_CACHED_WORDS) this.wordCache.clear();
    this.wordCache.set(word, ids);
    return ids;
  }

  /** Merges the adjacent pair with the lowest rank, everywhere in the word, until no
   *  ranked pair is left. */
  private bpe(byteChars: string): string[] {
    let symbols = Array.from(byteChars);
    symbols[symbols.length - 1] += END_OF_WORD;
    while (symbols.length > 1) {
      let bestRank = Infinity;
      let bestIndex = -1;
      for (let i = 0; i < symbols.length - 1; i++) {
        const rank = this.mergeRanks.get(mergeKey(symbols[i], symbols[i + 1]));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const left = symbols[bestIndex];
      const right = symbols[bestIndex + 1];
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }
    return symbols;
  }
}

function rankMerges(merges: [string, string][]): Map<string, number> {
  const ranks = new Map<string, number>();
  merges.forEach(([left, right], rank) => {
    const key = mergeKey(left, right);
    // The reference's dict(zip(merges, range(...))) keeps the last rank of a repeated pair.
    ranks.set(key, rank);
  });
  return ranks;
}

/** Lines 1..MERGE_COUNT of a merges file as pairs. Scans only those lines: the published
 *  file holds about five times more merges than CLIP uses. */
function parseMergeLines(mergesText: string): [string, string][] {
  const merges: [string, string][] = [];
  let start = mergesText.indexOf('\n') + 1; // line 0 is the '#version' header
  while (merges.length < MERGE_COUNT) {
    if (start === 0 || start >= mergesText.length) {
      throw new Error(`merges file has ${merges.length} merges; CLIP needs ${MERGE_COUNT}`);
    }
    const end = mergesText.indexOf('\n', start);
    const line = mergesText.slice(start, end < 0 ? mergesText.length : end).trim();
    const space = line.indexOf(' ');
    if (space <= 0 || line.indexOf(' ', space + 1) >= 0) {
      throw new Error(`merges line ${merges.length + 2} is not a pair: ${JSON.stringify(line)}`);
    }
    merges.push([line.slice(0, space), line.slice(space + 1)]);
    start = end + 1;
  }
  return merges;
}

function looksLikeJson(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/** Gunzips to text with the platform's DecompressionStream (browsers, Node >= 18). Stops
 *  as soon as a merges file has produced every line CLIP uses, which skips most of the
 *  work for bpe_simple_vocab_16e6.txt.gz; JSON is always read to the end. */
async function gunzipText(bytes: Uint8Array): Promise<string> {
  const compressed = new ReadableStream<BufferSource>({
    start(controller) {
      controller.enqueue(new Uint8Array(bytes));
      controller.close();
    },
  });
  const reader = compressed.pipeThrough(new DecompressionStream('gzip')).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let isJson: boolean | undefined;
  let newlines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    isJson ??= text.trim() === '' ? undefined : looksLikeJson(text);
    if (isJson !== false) continue;
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) newlines++;
    if (newlines > MERGE_COUNT) {
      await reader.cancel();
      return text;
    }
  }
}
