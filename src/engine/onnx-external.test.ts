import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureArchModels, readArchModel } from '../../scripts/archmodels.ts';
import { externalDataLocations, inlineExternalData } from './onnx-external.ts';

let dir: string;
beforeAll(() => {
  dir = ensureArchModels(['mci0']);
}, 120_000);

describe('external data', () => {
  it('lists the side files a graph refers to', () => {
    const { model } = readArchModel('mci0');
    expect(externalDataLocations(model)).toEqual(['mci0.bin']);
  });

  it('inlines the weights so onnxruntime-node can load the model from bytes', async () => {
    const bytes = readArchModel('mci0');
    const inlined = inlineExternalData(bytes);
    expect(externalDataLocations(inlined)).toEqual([]);
    // Every weight byte moved in, plus a few bytes of framing per tensor.
    const weights = bytes.externalData![0].data.length;
    expect(inlined.length).toBeGreaterThan(weights);
    expect(inlined.length).toBeLessThan(bytes.model.length + weights);
    // Nothing left to inline: the same bytes come back.
    expect(inlineExternalData({ model: inlined })).toBe(inlined);

    // Same outputs as ORT loading the model by path (where it reads mci0.bin itself).
    const fromPath = await ortNode.InferenceSession.create(join(dir, 'mci0.onnx'));
    const fromBytes = await ortNode.InferenceSession.create(inlined);
    const x = new Float32Array(3 * 256 * 256).map((_, i) => ((i * 7919) % 1000) / 1000);
    const feeds = () => ({ pixel_values: new ortNode.Tensor('float32', x, [1, 3, 256, 256]) });
    const a = (await fromPath.run(feeds())).image_embeds.data as Float32Array;
    const b = (await fromBytes.run(feeds())).image_embeds.data as Float32Array;
    expect(Array.from(b)).toEqual(Array.from(a));
    await fromPath.release();
    await fromBytes.release();
  }, 60_000);

  it('accepts a ./-prefixed path and names what is missing or out of range', () => {
    const { model, externalData } = readArchModel('mci0');
    const data = externalData![0].data;
    expect(() => inlineExternalData({ model, externalData: [{ path: './mci0.bin', data }] })).not.toThrow();
    expect(() => inlineExternalData({ model })).toThrow(/'mci0.bin' not provided/);
    expect(() => inlineExternalData({ model, externalData: [{ path: 'mci0.bin', data: data.subarray(0, 1000) }] })).toThrow(
      /lies outside 'mci0.bin'/,
    );
  });

  it('rejects corrupt protobuf instead of misreading it', () => {
    expect(() => externalDataLocations(Uint8Array.of(0x0b))).toThrow(/wire type 3/); // groups are not used by ONNX
    expect(() => externalDataLocations(Uint8Array.of(0x3a, 0x05, 0x01))).toThrow(/truncated/); // graph of 5 bytes, 1 present
    expect(() => externalDataLocations(Uint8Array.of(0x08, 0xff))).toThrow(/truncated/); // unterminated varint
  });
});
