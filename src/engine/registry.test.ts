// The model registry: which files each variant and backend uses.

import { describe, expect, it } from 'vitest';

import { DEFAULT_MODEL_ID, filesForBackend, getModel, isPinned, MODELS, publicModels, requiredFiles, requireModel, withoutFp16Vision } from './registry.ts';

describe('registry', () => {
  it('uses the fp32 vision file on WebGPU devices without fp16 shaders, and changes nothing else', () => {
    const s0 = requireModel('mobileclip-s0');
    expect(filesForBackend(s0, 'webgpu').vision).toBe('onnx/vision_model_fp16.onnx');
    const fp32 = withoutFp16Vision(s0);
    expect(filesForBackend(fp32, 'webgpu')).toEqual({ ...filesForBackend(s0, 'webgpu'), vision: 'onnx/vision_model.onnx' });
    expect(filesForBackend(fp32, 'wasm')).toEqual(filesForBackend(s0, 'wasm'));
    expect(fp32.id).toBe(s0.id); // same cache entries
  });

  it('has the MobileCLIP v1 and v2 variants plus the test-only fixture', () => {
    const ids = MODELS.map((m) => m.id);
    for (const id of ['mobileclip-s0', 'mobileclip-s1', 'mobileclip-s2', 'mobileclip-b', 'mobileclip-blt', 'mobileclip2-s0', 'mobileclip2-s2', 'mobileclip2-b', 'fixture']) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(getModel(DEFAULT_MODEL_ID)?.repo).toBe('Xenova/mobileclip_s0');
    expect(publicModels().some((m) => m.testOnly)).toBe(false);
    expect(publicModels().map((m) => m.id)).not.toContain('fixture');
    expect(getModel('nope')).toBeUndefined();
    expect(() => requireModel('nope')).toThrow(/unknown model 'nope'.*mobileclip-s0/);
  });

  it('describes each variant consistently', () => {
    for (const m of MODELS) {
      expect(m.contextLength).toBe(77);
      expect(m.logitScale).toBe(100);
      expect(m.mean === undefined).toBe(m.std === undefined);
      for (const b of ['wasm', 'webgpu'] as const) {
        expect(m.files.vision[b]).toMatch(/\.onnx$/);
        expect(m.files.text[b]).toMatch(/\.onnx$/);
      }
    }
    const size = (id: string) => requireModel(id).imageSize;
    expect([size('mobileclip-s0'), size('mobileclip-s1'), size('mobileclip-s2'), size('mobileclip2-s0'), size('mobileclip2-s2')]).toEqual([256, 256, 256, 256, 256]);
    expect([size('mobileclip-b'), size('mobileclip-blt'), size('mobileclip2-b')]).toEqual([224, 224, 224]);
    const fixture = requireModel('fixture');
    expect(fixture).toMatchObject({ repo: 'local/fixture', imageSize: 256, embedDim: 32, testOnly: true });
    expect(fixture.mean).toBeUndefined();
  });

  it('never gives WebGPU or WASM an int8 vision tower, and picks fp16 vision on WebGPU for v1', () => {
    for (const m of MODELS) {
      expect(m.files.vision.wasm).not.toMatch(/quant|int8|q8/);
      expect(m.files.vision.webgpu).not.toMatch(/quant|int8|q8/);
    }
    const s0 = requireModel('mobileclip-s0');
    expect(filesForBackend(s0, 'wasm')).toEqual({ vision: 'onnx/vision_model.onnx', text: 'onnx/text_model_quantized.onnx', tokenizer: 'tokenizer.json' });
    expect(filesForBackend(s0, 'webgpu')).toEqual({ vision: 'onnx/vision_model_fp16.onnx', text: 'onnx/text_model.onnx', tokenizer: 'tokenizer.json' });
    expect(requiredFiles(s0, ['wasm', 'webgpu'])).toHaveLength(5);
    expect(requiredFiles(requireModel('mobileclip2-s2'), ['wasm', 'webgpu'])).toEqual(['onnx/s2/vision_model.onnx', 'onnx/s2/text_model.onnx', 'tokenizer.json']);
  });

  it('pins a commit and every loaded file for the default model and the fixture; the rest are unverified sources', () => {
    const pinned = MODELS.filter(isPinned).map((m) => m.id);
    expect(pinned).toEqual(['mobileclip-s0', 'fixture', 'fixture-download']);
    for (const m of MODELS) {
      if (!m.source) continue;
      expect(m.source.revision).toMatch(/^[0-9a-f]{40}$/);
      const loaded = requiredFiles(m, ['wasm', 'webgpu']);
      for (const [path, pin] of Object.entries(m.source.files)) {
        expect(loaded).toContain(path); // no pin for a file the entry never loads
        expect(pin.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(pin.size).toBeGreaterThan(0);
      }
    }
    // MobileCLIP2-S2's graphs are pinned, its tokenizer not yet: still unverified as a whole.
    expect(Object.keys(requireModel('mobileclip2-s2').source!.files).sort()).toEqual(['onnx/s2/text_model.onnx', 'onnx/s2/vision_model.onnx']);
    expect(isPinned(requireModel('mobileclip2-s2'))).toBe(false);
  });
});

describe('download size and speed hints', () => {
  it('every public variant states both; bigger towers are not announced as smaller downloads', () => {
    for (const m of publicModels()) {
      expect(m.downloadBytes, m.id).toBeGreaterThan(10e6);
      expect(m.speedMs, m.id).toBeGreaterThan(0);
    }
    const bytes = (id: string) => requireModel(id).downloadBytes!;
    expect(bytes('mobileclip-s0')).toBeLessThan(bytes('mobileclip-s1'));
    expect(bytes('mobileclip-s1')).toBeLessThan(bytes('mobileclip-s2'));
    expect(bytes('mobileclip-s2')).toBeLessThan(bytes('mobileclip-b'));
    const speed = (id: string) => requireModel(id).speedMs!;
    expect(speed('mobileclip-s0')).toBeLessThan(speed('mobileclip-s1'));
    expect(speed('mobileclip-s1')).toBeLessThan(speed('mobileclip-s2'));
    expect(speed('mobileclip-s2')).toBeLessThan(speed('mobileclip-b'));
    // MobileCLIP2 ships fp32 text towers: more to download than v1's int8 ones.
    expect(bytes('mobileclip2-s0')).toBeGreaterThan(bytes('mobileclip-s0'));
  });
});
