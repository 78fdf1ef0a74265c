import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureArchModels, readArchModel } from '../../scripts/archmodels.ts';
import { externalDataLocations, inlineExternalData, outlineInitializers } from './onnx-external.ts';

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

  it('outlines the initializers of an inline model into its own bytes, with the same outputs in onnxruntime-web', async () => {
    const inline = inlineExternalData(readArchModel('mci0'));
    const outlined = outlineInitializers({ model: inline });
    // The weights stay where they are: the side file is the model's own bytes, not a copy.
    expect(outlined.externalData).toHaveLength(1);
    expect(outlined.externalData![0].data).toBe(inline);
    expect(externalDataLocations(outlined.model)).toEqual([outlined.externalData![0].path]);
    expect(outlined.model.length).toBeLessThan(inline.length / 20);
    // Inlined again, every tensor's bytes are back: the same model, up to field order.
    expect(inlineExternalData(outlined).length).toBe(inline.length);
    // Nothing inline left to outline; tensors already external keep their files.
    expect(outlineInitializers(outlined)).toBe(outlined);
    const external = readArchModel('mci0');
    expect(outlineInitializers(external)).toBe(external);

    ortWeb.env.wasm.numThreads = 1;
    const x = new Float32Array(2 * 3 * 256 * 256).map((_, i) => ((i * 7919) % 1000) / 1000);
    const embed = async (model: Uint8Array, externalData?: { path: string; data: Uint8Array }[]) => {
      const session = await ortWeb.InferenceSession.create(model, externalData ? { externalData } : {});
      const out = await session.run({ pixel_values: new ortWeb.Tensor('float32', x, [2, 3, 256, 256]) });
      await session.release();
      return Array.from(out.image_embeds.data as Float32Array);
    };
    expect(await embed(outlined.model, outlined.externalData)).toEqual(await embed(inline));
  }, 60_000);

  it('rejects corrupt protobuf instead of misreading it', () => {
    expect(() => externalDataLocations(Uint8Array.of(0x0b))).toThrow(/wire type 3/); // groups are not used by ONNX
    expect(() => externalDataLocations(Uint8Array.of(0x3a, 0x05, 0x01))).toThrow(/truncated/); // graph of 5 bytes, 1 present
    expect(() => externalDataLocations(Uint8Array.of(0x08, 0xff))).toThrow(/truncated/); // unterminated varint
  });
});
