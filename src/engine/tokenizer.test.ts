import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanClipText, htmlUnescape } from './text-clean';
import { ClipTokenizer, EOT, SOT } from './tokenizer';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const mergesGz = new Uint8Array(readFileSync(path.join(shared, 'clip-bpe/bpe_simple_vocab_16e6.txt.gz')));
const referenceCases: { text: string; input_ids: number[] }[] = JSON.parse(
  readFileSync(path.join(shared, 'refs/clip-tokenizer-cases.json'), 'utf8'),
);

/** A Hugging Face-style CLIP tokenizer.json, built here from the merges file on its own
 *  (GPT-2 byte alphabet, '</w>' forms, merges, specials) so the tokenizer.json path is
 *  checked against the reference rather than against the merges-file code path. */
function buildTokenizerJson(mergesText: string, mergeStyle: 'strings' | 'pairs') {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const byteChars: string[] = [];
  for (let b = 0; b < 256; b++) if (printable(b)) byteChars.push(String.fromCharCode(b));
  let extra = 256;
  for (let b = 0; b < 256; b++) if (!printable(b)) byteChars.push(String.fromCharCode(extra++));
  const merges = mergesText.split('\n').slice(1, 49152 - 256 - 2 + 1).map((line) => line.split(' '));
  const symbols = [
    ...byteChars,
    ...byteChars.map((c) => c + '</w>'),
    ...merges.map((pair) => pair.join('')),
    '<|startoftext|>',
    '<|endoftext|>',
  ];
  const vocab: Record<string, number> = {};
  symbols.forEach((symbol, id) => (vocab[symbol] = id));
  return {
    version: '1.0',
    added_tokens: [
      { id: SOT, content: '<|startoftext|>', special: true },
      { id: EOT, content: '<|endoftext|>', special: true },
    ],
    model: {
      type: 'BPE',
      end_of_word_suffix: '</w>',
      continuing_subword_prefix: '',
      vocab,
      merges: mergeStyle === 'strings' ? merges.map((pair) => pair.join(' ')) : merges,
    },
  };
}

function expectReferenceCases(tokenizer: ClipTokenizer) {
  for (const { text, input_ids } of referenceCases) {
    expect(Array.from(tokenizer.tokenize(text)), JSON.stringify(text)).toEqual(input_ids);
  }
}

describe('ClipTokenizer against the reference tokenizer', () => {
  const mergesText = gunzipSync(mergesGz).toString('utf8');

  it('has the 60 reference cases', () => {
    expect(referenceCases).toHaveLength(60);
  });

  it('reproduces every reference case from the gzipped merges file', async () => {
    expectReferenceCases(await ClipTokenizer.load(mergesGz));
  });

  it('reproduces every reference case from plain merges text', async () => {
    expectReferenceCases(await ClipTokenizer.load(new TextEncoder().encode(mergesText)));
  });

  it('reproduces every reference case from a tokenizer.json with "a b" merges', async () => {
    const json = JSON.stringify(buildTokenizerJson(mergesText, 'strings'));
    expectReferenceCases(await ClipTokenizer.load(new TextEncoder().encode(json)));
  });

  it('reproduces every reference case from a tokenizer.json object with [a, b] merges', () => {
    expectReferenceCases(ClipTokenizer.fromTokenizerJson(buildTokenizerJson(mergesText, 'pairs')));
  });

  it('rejects data that is not a CLIP tokenizer', async () => {
    await expect(ClipTokenizer.load(new TextEncoder().encode('#version: 0.2\na b\n'))).rejects.toThrow(/merges/);
    expect(() => ClipTokenizer.fromTokenizerJson({ model: { type: 'WordPiece', vocab: {} } })).toThrow();
    const notClip = buildTokenizerJson(mergesText, 'strings');
    notClip.model.end_of_word_suffix = '';
    expect(() => ClipTokenizer.fromTokenizerJson(notClip)).toThrow(/end_of_word_suffix/);
  });
});

describe('ClipTokenizer layout', () => {
  let tokenizer: ClipTokenizer;
  beforeAll(async () => {
    tokenizer = await ClipTokenizer.load(mergesGz);
  });

  it('looks up vocabulary entries by their byte-alphabet spelling', () => {
    expect(tokenizer.tokenId('red</w>')).toBe(736);
    expect(tokenizer.tokenId('<|startoftext|>')).toBe(SOT);
    expect(tokenizer.tokenId('<|endoftext|>')).toBe(EOT);
    expect(tokenizer.tokenId('no such token')).toBeUndefined();
    expect(tokenizer.encode('red car')).toEqual([736, 1615]);
  });

  it('truncates long text so that EOT stays at the last position', () => {
    const text = 'a photo of a cat sitting on a red car '.repeat(10);
    const ids = tokenizer.encode(text);
    expect(ids.length).toBe(100);
    const row = tokenizer.tokenize(text);
    expect(row).toHaveLength(77);
    expect(row[0]).toBe(SOT);
    expect(row[76]).toBe(EOT);
    expect(Array.from(row.slice(1, 76))).toEqual(ids.slice(0, 75));
  });

  it('keeps EOT last when the text fills the context exactly', () => {
    const text = 'x '.repeat(75); // 75 ids: SOT + 75 + EOT = 77, nothing cut
    const row = tokenizer.tokenize(text);
    expect(row[75]).toBe(tokenizer.tokenId('x</w>'));
    expect(row[76]).toBe(EOT);
    const oneMore = tokenizer.tokenize(text + 'y');
    expect(oneMore[75]).toBe(tokenizer.tokenId('x</w>'));
    expect(oneMore[76]).toBe(EOT);
  });

  it('honours a custom context length and rejects impossible ones', () => {
    const row = tokenizer.tokenize('a photo of a cat', 5);
    expect(Array.from(row)).toEqual([SOT, 320, 1125, 539, EOT]);
    expect(() => tokenizer.tokenize('cat', 1)).toThrow(RangeError);
  });

  it('lays out a batch row-major as int64', () => {
    const texts = ['a photo of a cat', '', 'red car ' + 'word '.repeat(100)];
    const batch = tokenizer.tokenizeBatch(texts);
    expect(batch).toBeInstanceOf(BigInt64Array);
    expect(batch).toHaveLength(texts.length * 77);
    texts.forEach((text, row) => {
      const expected = Array.from(tokenizer.tokenize(text), BigInt);
      expect(Array.from(batch.subarray(row * 77, (row + 1) * 77))).toEqual(expected);
    });
    expect(batch[77]).toBe(BigInt(SOT));
    expect(batch[78]).toBe(BigInt(EOT));
    expect(tokenizer.tokenizeBatch(['red car'], 4)).toEqual(BigInt64Array.from([SOT, 736, 1615, EOT].map(BigInt)));
  });

  it('gives the same ids for a word before and after it is cached', () => {
    const first = tokenizer.encode('hummingbirds hummingbirds');
    expect(first.slice(0, first.length / 2)).toEqual(first.slice(first.length / 2));
  });
});

describe('text clean-up (ftfy, html.unescape, whitespace)', () => {
  // Expected values are Python 3.11 html.unescape outputs.
  it.each([
    ['&amp', '&'],
    ['&ampx', '&x'],
    ['&notit;', '¬it;'],
    ['&eacutex;', 'éx;'],
    ['&#0;', '\ufffd'],
    ['&#x80;', '€'],
    ['&#1;', ''],
    ['&#13;', '\r'],
    ['&#xD800;', '\ufffd'],
    ['&#x110000;', '\ufffd'],
    ['&#x1FFFF;', ''],
    ['&#xFDD0;', ''],
    ['&#99999999999999999999;', '\ufffd'],
    ['&#65', 'A'],
    ['&#X41;&#x41', 'AA'],
    ['&unknown;', '&unknown;'],
    ['&lt;&gt;&quot;&apos;', '<>"\''],
    ['&Eacute;t&eacute', 'Été'],
    ['&AMP;&COPY&copy;', '&©©'],
    ['&lang;&rang;', '⟨⟩'],
    ['&amp;amp;', '&amp;'],
    ['&;', '&;'],
    ['& amp;', '& amp;'],
    ['&constructor;', '&constructor;'],
  ])('html.unescape(%j) = %j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected);
  });

  it.each([
    ['&amp;amp;amp;', '&'], // ftfy repeats until stable, then two more unescapes
    ['<b>&amp;amp;amp;</b>', '<b>&amp;</b>'], // '<' turns ftfy's unescaping off
    ['x\n&amp;amp;amp;', 'x &'],
    ['<i>\n&amp;amp;amp;', '<i> &amp;'], // ...for the rest of the text
    ['P&EACUTE;REZ', 'PÉREZ'],
    ['BUNDESSTRA&SZLIG;E', 'BUNDESSTRASSE'],
    ['&ntilde; &Ntilde; &NTILDE; &nTILDE;', 'ñ Ñ Ñ &nTILDE;'],
    ['ＬＯＵＤ　ＮＯＩＳＥＳ', 'LOUD NOISES'],
    ['ﬂuﬃeﬆ', 'fluffiest'],
    ['\u201chere\u2019s a test\u201d', '"here\'s a test"'],
    ['\x1b[36;44mblue\x1b[0m', 'blue'],
    ['cafe\u0301', 'café'],
    ['a\u00a0b\u2003c\ufeffd\x00e', 'a b cde'],
    ['doo\x85', 'doo\u2026'],
    ['&#xfeff;x', 'x'],
    ['<&#xfeff;x', '<\ufeffx'], // U+FEFF is not whitespace in Python
    ['  \t\n ', ''],
  ])('cleanClipText(%j) = %j', (input, expected) => {
    expect(cleanClipText(input)).toBe(expected);
  });

  it('keeps U+FEFF inside a punctuation run, as the Python pre-tokenizer does', async () => {
    const tokenizer = await ClipTokenizer.load(mergesGz);
    expect(tokenizer.encode('<&#xfeff;x')).not.toEqual(tokenizer.encode('<x'));
    expect(tokenizer.encode('ＬＯＵＤ　ｎｏｉｓｅｓ')).toEqual(tokenizer.encode('loud noises'));
  });
});
