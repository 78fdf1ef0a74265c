// npm run models:fetch: its command line, and a download into `<out>/<id>/` that loads back from
// disk and, served as the extension bundles it, over HTTP.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadBundledModel } from '../src/engine/hub/bundled.ts';
import { expectBytes, expectMonotonic, fast, useFakeHub } from '../src/engine/hub/fake-hub.ts';
import type { DownloadProgress } from '../src/engine/hub/options.ts';
import { loadModelFromDir } from '../src/engine/hub/store-fs.ts';
import { requireModel } from '../src/engine/registry.ts';
import { fetchModel, parseArgs } from './fetch-model.ts';

const hub = useFakeHub();

describe('models:fetch', () => {
  it('parses its command line', () => {
    expect(parseArgs(['mobileclip-s0'])).toMatchObject({ id: 'mobileclip-s0', backend: 'all', outDir: 'models' });
    expect(parseArgs(['fixture', '--base', 'http://h', '--backend', 'wasm', '--out', '/tmp/m'])).toMatchObject({
      id: 'fixture',
      baseUrl: 'http://h',
      backend: 'wasm',
      outDir: '/tmp/m',
    });
    expect(() => parseArgs([])).toThrow(/usage/);
    expect(() => parseArgs(['x', '--backend', 'cuda'])).toThrow(/wasm, webgpu or all/);
    expect(() => parseArgs(['x', '--bogus'])).toThrow(/unknown option/);
  });

  it('downloads a registry model into <out>/<id>/ and the result loads from disk and over HTTP', async () => {
    const fixture = requireModel('fixture');
    const vision = hub.serve('local/fixture', 'onnx/vision_model.onnx', randomBytes(20_000));
    const text = hub.serve('local/fixture', 'onnx/text_model.onnx', randomBytes(9_000));
    const bpe = hub.serve('local/fixture', 'bpe_simple_vocab_16e6.txt.gz', randomBytes(3_000));
    const out = await mkdtemp(join(tmpdir(), 'fetch-model-'));
    try {
      // These are not the files the registry pins for the fixture: refused at its pinned commit.
      await expect(fetchModel({ id: 'fixture', baseUrl: hub.base, backend: 'all', outDir: out, ...fast })).rejects.toThrow(
        /^model file changed upstream: onnx\/vision_model\.onnx/,
      );
      // An explicit revision is taken as asked, checked against the host's listing.
      const events: DownloadProgress[] = [];
      const result = await fetchModel({ id: 'fixture', baseUrl: hub.base, backend: 'all', outDir: out, revision: 'main', onProgress: (p) => events.push(p), ...fast });
      expect(result.dir).toBe(join(out, 'fixture'));
      expect(result.files.sort()).toEqual(['bpe_simple_vocab_16e6.txt.gz', 'onnx/text_model.onnx', 'onnx/vision_model.onnx']);
      expectBytes(new Uint8Array(await readFile(join(out, 'fixture/onnx/vision_model.onnx'))), vision);
      expect((await stat(join(out, 'fixture/manifest.json'))).isFile()).toBe(true);
      expectMonotonic(events);

      const fromDisk = await loadModelFromDir(fixture, join(out, 'fixture'), 'wasm');
      expectBytes(fromDisk.text.model, text);
      expectBytes(fromDisk.tokenizer, bpe);

      // Run again: everything is there, nothing is downloaded.
      const before = hub.log.length;
      await fetchModel({ id: 'fixture', baseUrl: hub.base, backend: 'all', outDir: out, revision: 'main', ...fast });
      expect(hub.log.filter((l, i) => i >= before && !l.url.startsWith('/api/'))).toHaveLength(0);

      // The same directory served as the extension would bundle it.
      for (const p of ['manifest.json', 'onnx/vision_model.onnx', 'onnx/text_model.onnx', 'bpe_simple_vocab_16e6.txt.gz']) {
        hub.staticFiles.set(`/ext/models/fixture/${p}`, new Uint8Array(await readFile(join(out, 'fixture', p))));
      }
      const bundled = await loadBundledModel(fixture, `${hub.base}/ext/models/`, 'webgpu');
      expectBytes(bundled.vision.model, vision);
      expect(bundled.vision.externalData).toBeUndefined();
      expectBytes(bundled.tokenizer, bpe);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
