import { describe, expect, it } from 'vitest';
import { downloadSize } from './download-size';
import { requireModel, withoutFp16Vision } from './registry';
import type { ModelSpec } from './types';

const s0 = requireModel('mobileclip-s0');
const pin = (path: string) => s0.source!.files[path]!.size;
const wasmPins = pin('onnx/vision_model.onnx') + pin('onnx/text_model_quantized.onnx') + pin('tokenizer.json');
const webgpuOnlyPins = pin('onnx/vision_model_fp16.onnx') + pin('onnx/text_model.onnx');

describe('downloadSize', () => {
  it('WASM alone: the pinned WASM files and the tokenizer', () => {
    expect(downloadSize(s0, ['wasm'])).toBe(wasmPins);
  });

  it('WASM and WebGPU: every file of both, the shared tokenizer once', () => {
    expect(downloadSize(s0, ['wasm', 'webgpu'])).toBe(wasmPins + webgpuOnlyPins);
  });

  it('WebGPU after WASM is stored: only the files WASM does not provide', () => {
    expect(downloadSize(s0, ['wasm', 'webgpu'], ['wasm'])).toBe(webgpuOnlyPins);
  });

  it('a GPU without fp16 shaders loads the WASM vision file: not counted twice', () => {
    expect(downloadSize(withoutFp16Vision(s0), ['wasm', 'webgpu'])).toBe(wasmPins + pin('onnx/text_model.onnx'));
  });

  it('nothing left to fetch is zero', () => {
    expect(downloadSize(s0, ['wasm', 'webgpu'], ['wasm', 'webgpu'])).toBe(0);
  });

  it('unpinned WASM files fall back to the estimate; a model whose backends share files costs it once', () => {
    const unpinned = requireModel('mobileclip2-s0');
    expect(unpinned.source?.files['onnx/s0/vision_model.onnx']).toBeUndefined();
    expect(downloadSize(unpinned, ['wasm', 'webgpu'])).toBe(unpinned.downloadBytes);
  });

  it('an unpinned WebGPU-only file makes the size unknown rather than too small', () => {
    const { 'onnx/text_model.onnx': _dropped, ...rest } = s0.source!.files;
    const partlyPinned: ModelSpec = { ...s0, source: { ...s0.source!, files: rest } };
    expect(downloadSize(partlyPinned, ['wasm'])).toBe(wasmPins);
    expect(downloadSize(partlyPinned, ['wasm', 'webgpu'])).toBeNull();
  });

  it('no pins and no estimate: unknown', () => {
    const bare: ModelSpec = { ...s0, source: undefined, downloadBytes: undefined };
    expect(downloadSize(bare, ['wasm'])).toBeNull();
  });
});
