// A build ships only the model files a backend of its browser loads.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireModel } from '../src/engine/registry.ts';
import { bundleModel } from './bundle-model.ts';

const spec = requireModel('mobileclip-s0');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fetched model directory holding every file of both backends, with a manifest. */
function fetchedModel(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-model-'));
  dirs.push(dir);
  const paths = ['onnx/vision_model.onnx', 'onnx/vision_model_fp16.onnx', 'onnx/text_model_quantized.onnx', 'onnx/text_model.onnx', 'tokenizer.json'];
  for (const p of paths) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), p);
  }
  const manifest = {
    version: 1,
    modelId: spec.id,
    repo: spec.repo,
    revision: 'main',
    files: Object.fromEntries(paths.map((p) => [p, { size: p.length }])),
    externalData: Object.fromEntries(paths.filter((p) => p.endsWith('.onnx')).map((p) => [p, []])),
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

const listed = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(dir.length + 1)).sort();

describe('bundleModel', () => {
  it('ships the WASM files alone to Firefox, and both backends to Chrome', () => {
    const from = fetchedModel();
    const firefox = join(from, '..', `${from.split('/').pop()}-ff`);
    const chrome = join(from, '..', `${from.split('/').pop()}-cr`);
    dirs.push(firefox, chrome);
    bundleModel(spec, from, firefox, 'firefox');
    bundleModel(spec, from, chrome, 'chrome');
    expect(listed(firefox)).toEqual(['manifest.json', 'onnx/text_model_quantized.onnx', 'onnx/vision_model.onnx', 'tokenizer.json']);
    expect(listed(chrome)).toEqual(listed(from));
    // The shipped manifest lists what is shipped, nothing else.
    const manifest = JSON.parse(readFileSync(join(firefox, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.files).sort()).toEqual(['onnx/text_model_quantized.onnx', 'onnx/vision_model.onnx', 'tokenizer.json']);
    expect(Object.keys(manifest.externalData).sort()).toEqual(['onnx/text_model_quantized.onnx', 'onnx/vision_model.onnx']);
  });

  it('names a file the build needs that the fetched model lacks', () => {
    const from = fetchedModel();
    rmSync(join(from, 'onnx/vision_model_fp16.onnx'));
    const to = `${from}-out`;
    dirs.push(to);
    expect(() => bundleModel(spec, from, to, 'chrome')).toThrow(/vision_model_fp16\.onnx \(needed by the chrome build\)/);
  });
});
