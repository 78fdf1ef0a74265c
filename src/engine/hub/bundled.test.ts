// Models shipped in the extension build, read over HTTP like extension URLs.

import { describe, expect, it } from 'vitest';

import { loadBundledFile, loadBundledModel, loadBundledTextFirst } from './bundled.ts';
import { rejection, useFakeHub } from './fake-hub.ts';
import { requireModel } from '../registry.ts';

const hub = useFakeHub();

describe('bundled models', () => {
  it('loads a bundled model without a manifest and names a missing file', async () => {
    const fixture = requireModel('fixture');
    hub.staticFiles.set('/b/fixture/onnx/vision_model.onnx', new Uint8Array([1]));
    hub.staticFiles.set('/b/fixture/onnx/text_model.onnx', new Uint8Array([2]));
    const err = await rejection(loadBundledModel(fixture, `${hub.base}/b`, 'wasm'));
    expect(err.code).toBe('missing');
    expect(err.message).toContain('bpe_simple_vocab_16e6.txt.gz');
    hub.staticFiles.set('/b/fixture/bpe_simple_vocab_16e6.txt.gz', new Uint8Array([3]));
    const got = await loadBundledModel(fixture, `${hub.base}/b`, 'wasm');
    expect(got.text.model).toEqual(new Uint8Array([2]));
  });

  it('text first: reads the tokenizer and the text graph, the vision graph only when asked for (naming it when it is missing)', async () => {
    const fixture = requireModel('fixture');
    hub.staticFiles.set('/t/fixture/onnx/text_model.onnx', new Uint8Array([2]));
    hub.staticFiles.set('/t/fixture/bpe_simple_vocab_16e6.txt.gz', new Uint8Array([3]));
    hub.log.length = 0;
    // The tokenizer's bytes are handed on while the text graph is still being read (its parse need not wait).
    const heard: { tokenizer: number[]; textRead: boolean }[] = [];
    const asked = () => hub.log.map((l) => l.url.split('/').pop());
    const got = await loadBundledTextFirst(fixture, `${hub.base}/t`, 'wasm', (bytes) => heard.push({ tokenizer: [...bytes], textRead: asked().includes('text_model.onnx') }));
    expect([got.text.model, got.tokenizer]).toEqual([new Uint8Array([2]), new Uint8Array([3])]);
    expect(heard).toEqual([{ tokenizer: [3], textRead: false }]);
    expect(asked()).toEqual(['manifest.json', 'bpe_simple_vocab_16e6.txt.gz', 'text_model.onnx']);
    const err = await rejection(got.vision());
    expect(err.code).toBe('missing');
    expect(err.message).toContain('vision_model.onnx');
    hub.staticFiles.set('/t/fixture/onnx/vision_model.onnx', new Uint8Array([1]));
    expect((await got.vision()).model).toEqual(new Uint8Array([1]));
    expect(asked().slice(3)).toEqual(['vision_model.onnx', 'vision_model.onnx']);
  });

  it('reads one bundled file alone, and names it when it is missing', async () => {
    const fixture = requireModel('fixture');
    const err = await rejection(loadBundledFile(fixture, `${hub.base}/c`, 'tokenizer.json'));
    expect(err.code).toBe('missing');
    expect(err.message).toContain('tokenizer.json');
    hub.staticFiles.set('/c/fixture/tokenizer.json', new Uint8Array([7, 8]));
    hub.log.length = 0;
    expect(await loadBundledFile(fixture, `${hub.base}/c`, 'tokenizer.json')).toEqual(new Uint8Array([7, 8]));
    // One request: neither the graphs nor the manifest are read.
    expect(hub.log.map((l) => l.url)).toEqual(['/c/fixture/tokenizer.json']);
  });
});
