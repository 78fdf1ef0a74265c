// BackendPolicy's rules, through ClipEngine as both of its uses build it:
// - one context: WASM and WebGPU towers on this context's ORT modules (fake ORT);
// - Chrome's split: WebGPU towers here, WASM in the offscreen document (a fake of that side).
// The same tests run against both. ORT-specific details (module lock, adapter, batching):
// session-backends.test.ts.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClipEngine, type EngineInit } from './session.ts';
import type { Backend } from './types.ts';
import { norm } from './similarity.ts';
import { BACKEND_CODE, decode, deferred, fakeOffscreenWasm, fakeOrt, files, images, tokenizer, spec, TEXT, VISION, withGpu, type FakeControl } from './testing/fakes.ts';

type Change = [Backend, string, number | null];

interface Options {
  prefer?: EngineInit['prefer'];
  /** WASM opens once this resolves. */
  wasmGate?: Promise<void>;
  wasmFails?: string;
  control?: FakeControl;
  onBackendChange?: EngineInit['onBackendChange'];
}

interface Setup {
  engine: Promise<ClipEngine>;
  /** ORT sessions of the WebGPU side, created and released. */
  gpu: ReturnType<typeof fakeOrt>;
  wasmOpened(): number;
  wasmReleased(): boolean;
  changes: Change[];
}

const setups: [string, (o: Options) => Setup][] = [
  [
    'one context',
    (o) => {
      const gpu = fakeOrt(o.control);
      const wasm = fakeOrt();
      const changes: Change[] = [];
      const loadFiles: EngineInit['loadFiles'] = async (backend) => {
        if (backend === 'wasm') {
          await o.wasmGate;
          if (o.wasmFails) throw new Error(o.wasmFails);
        }
        return files(backend);
      };
      const engine = ClipEngine.create({
        spec,
        ort: gpu.ort,
        wasmOrt: wasm.ort,
        wasmThreads: 1,
        loadFiles,
        tokenizer,
        prefer: o.prefer,
        onBackendChange: (...c) => (changes.push(c), o.onBackendChange?.(...c)),
      });
      return {
        engine,
        gpu,
        changes,
        wasmOpened: () => wasm.created.filter((c) => c === 'wasm:vision').length,
        wasmReleased: () => ['wasm:vision', 'wasm:text'].every((s) => wasm.released.includes(s)),
      };
    },
  ],
  [
    'split (WASM in the offscreen document)',
    (o) => {
      const gpu = fakeOrt(o.control);
      const offscreen = fakeOffscreenWasm({ gate: o.wasmGate, fails: o.wasmFails });
      const changes: Change[] = [];
      const engine = ClipEngine.create({
        spec,
        ort: gpu.ort,
        loadFiles: async (backend) => (backend === 'webgpu' ? files(backend) : Promise.reject(new Error('WASM files are read in the document'))),
        wasmBackend: offscreen.provider,
        tokenizer,
        prefer: o.prefer,
        onBackendChange: (...c) => (changes.push(c), o.onBackendChange?.(...c)),
      });
      return { engine, gpu, changes, wasmOpened: () => offscreen.opened, wasmReleased: () => offscreen.disposed === 1 };
    },
  ],
];

afterEach(() => {
  vi.unstubAllGlobals();
});

describe.each(setups)('BackendPolicy, %s', (_name, setup) => {
  it("prefer 'wasm': WASM only, with unit-length rows", async () => {
    withGpu();
    const s = setup({ prefer: 'wasm' });
    const engine = await s.engine;
    expect(engine.backend).toBe('wasm');
    expect(s.changes).toEqual([['wasm', 'WASM requested', expect.any(Number)]]);
    const [image] = await engine.embedImages(images(7), 1);
    const [text] = await engine.embedTexts(['abc']);
    expect(decode(image)).toEqual([BACKEND_CODE.wasm, 7, VISION, 1]);
    expect(decode(text)).toEqual([BACKEND_CODE.wasm, 3, TEXT, 1]);
    for (const row of [image, text]) expect(norm(row)).toBeCloseTo(1, 6);
    expect(s.gpu.created).toEqual([]);
    await engine.dispose();
  });

  it("prefer 'webgpu': WebGPU, and no WASM until it is needed", async () => {
    withGpu();
    const s = setup({ prefer: 'webgpu' });
    const engine = await s.engine;
    expect(engine.backend).toBe('webgpu');
    expect(s.changes).toEqual([['webgpu', 'WebGPU requested', null]]);
    expect(decode((await engine.embedTexts(['ab']))[0])).toEqual([BACKEND_CODE.webgpu, 2, TEXT, 1]);
    expect(s.wasmOpened()).toBe(0);
    await engine.dispose();
  });

  it("prefer 'webgpu': WASM when WebGPU cannot start, and says why", async () => {
    withGpu(async () => null);
    const s = setup({ prefer: 'webgpu' });
    const engine = await s.engine;
    expect(engine.backend).toBe('wasm');
    expect(engine.info.webgpuFailure).toBe('WebGPU failed to start: no WebGPU adapter');
    expect(s.changes).toEqual([['wasm', 'WebGPU failed to start: no WebGPU adapter', expect.any(Number)]]);
    await engine.dispose();
  });

  it("'auto': WASM answers at once, WebGPU takes over once warm", async () => {
    withGpu();
    const compile = deferred();
    const s = setup({ control: { gpuRun: () => compile.promise, gpuFails: false } });
    const engine = await s.engine;
    expect(engine.backend).toBe('wasm');
    expect(decode((await engine.embedImages(images(4), 1))[0])[0]).toBe(BACKEND_CODE.wasm);
    compile.resolve();
    expect(await engine.settled()).toBe('webgpu');
    expect(s.changes).toEqual([
      ['wasm', 'WASM ready; WebGPU warming up', expect.any(Number)],
      ['webgpu', expect.stringMatching(/^WebGPU warmed up in \d+ ms$/), null],
    ]);
    expect(decode((await engine.embedImages(images(5), 1))[0])).toEqual([BACKEND_CODE.webgpu, 5, VISION, 1]);
    await engine.dispose();
  });

  it("'auto': WebGPU answers first when WASM is slower, and WASM stays the fallback", async () => {
    withGpu();
    const wasmGate = deferred();
    const control = { gpuRun: async () => undefined, gpuFails: false };
    const s = setup({ wasmGate: wasmGate.promise, control });
    const engine = await s.engine;
    expect(engine.backend).toBe('webgpu');
    expect(s.changes).toEqual([['webgpu', 'WebGPU warmed up first', null]]);
    wasmGate.resolve();
    expect(await engine.settled()).toBe('webgpu');
    expect(s.wasmOpened()).toBe(1);
    control.gpuFails = true;
    expect(decode((await engine.embedTexts(['abcd']))[0])).toEqual([BACKEND_CODE.wasm, 4, TEXT, 1]);
    await engine.dispose();
  });

  it('a failing WebGPU run switches to WASM for good and is retried there', async () => {
    withGpu();
    const control = { gpuRun: async () => undefined, gpuFails: false };
    const s = setup({ prefer: 'webgpu', control });
    const engine = await s.engine;
    control.gpuFails = true;
    const rows = await engine.embedImages(images(5, 6), 2);
    expect(rows.map(decode)).toEqual([
      [BACKEND_CODE.wasm, 5, VISION, 1],
      [BACKEND_CODE.wasm, 6, VISION, 1],
    ]);
    expect(engine.backend).toBe('wasm');
    expect(engine.info.webgpuFailure).toBe('WebGPU run failed: GPU validation error');
    expect(s.changes.at(-1)).toEqual(['wasm', 'WebGPU run failed: GPU validation error', expect.any(Number)]);
    expect(s.gpu.released).toEqual(expect.arrayContaining(['webgpu:vision', 'webgpu:text']));

    control.gpuFails = false;
    await engine.embedTexts(['x']);
    expect(engine.backend).toBe('wasm');
    await engine.dispose();
  });

  it('a lost GPU device switches to WASM for good', async () => {
    withGpu();
    const s = setup({});
    const engine = await s.engine;
    expect(await engine.settled()).toBe('webgpu');
    s.gpu.loseDevice('unknown');
    await vi.waitFor(() => expect(engine.backend).toBe('wasm'));
    expect(s.changes.at(-1)).toEqual(['wasm', 'GPU device lost (unknown): gone', expect.any(Number)]);
    expect(decode((await engine.embedTexts(['ab']))[0])[0]).toBe(BACKEND_CODE.wasm);
    await vi.waitFor(() => expect(s.gpu.released).toEqual(expect.arrayContaining(['webgpu:vision', 'webgpu:text'])));
    await engine.dispose();
  });

  it('dispose releases everything, including a backend still opening', async () => {
    withGpu();
    const compile = deferred();
    const s = setup({ control: { gpuRun: () => compile.promise, gpuFails: false } });
    const engine = await s.engine;
    await vi.waitFor(() => expect(s.gpu.created).toEqual(['webgpu:vision', 'webgpu:text']));
    let disposed = false;
    const disposing = engine.dispose().then(() => (disposed = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(disposed).toBe(false); // the WebGPU warm-up is still running
    compile.resolve();
    await disposing;
    expect([...s.gpu.released].sort()).toEqual(['webgpu:text', 'webgpu:vision']);
    expect(s.wasmReleased()).toBe(true);
    expect(s.changes.map((c) => c[0])).toEqual(['wasm']); // no switch to a disposed backend
    await expect(engine.embedImages(images(1), 1)).rejects.toThrow(/disposed/);
  });

  it('a change listener that throws breaks nothing', async () => {
    withGpu();
    const s = setup({
      onBackendChange: () => {
        throw new Error('listener bug');
      },
    });
    const engine = await s.engine;
    expect(await engine.settled()).toBe('webgpu');
    expect(s.changes).toHaveLength(2);
    expect(decode((await engine.embedTexts(['abc']))[0])[0]).toBe(BACKEND_CODE.webgpu);
    await engine.dispose();
  });

  it('create() fails with the WASM error when no backend can open', async () => {
    withGpu(async () => null);
    const s = setup({ wasmFails: 'WASM broke' });
    await expect(s.engine).rejects.toThrow('WASM broke');
    expect(s.changes).toEqual([]);
  });

  it('a WebGPU failure with no WASM to fall back on fails the call with the WASM error', async () => {
    withGpu();
    const control = { gpuRun: async () => undefined, gpuFails: false };
    const s = setup({ wasmFails: 'WASM broke', control });
    const engine = await s.engine;
    expect(engine.backend).toBe('webgpu');
    control.gpuFails = true;
    await expect(engine.embedTexts(['a'])).rejects.toThrow('WASM broke');
    await engine.dispose();
  });
});

describe('BackendPolicy, split only', () => {
  it('texts answered by the offscreen WASM never load the tokenizer of this context', async () => {
    const offscreen = fakeOffscreenWasm({ threads: 2 });
    let loads = 0;
    const engine = await ClipEngine.create({ spec, ort: fakeOrt().ort, loadFiles: files, wasmBackend: offscreen.provider, tokenizer: async () => (loads++, tokenizer), prefer: 'wasm' });
    expect(await engine.embedTexts(['a'])).toHaveLength(1);
    expect(loads).toBe(0);
    await engine.dispose();
  });

  it("reports the thread count of the answering WASM when it changes (the document's fallback)", async () => {
    const offscreen = fakeOffscreenWasm({ threads: 2 });
    const changes: Change[] = [];
    const engine = await ClipEngine.create({
      spec,
      ort: fakeOrt().ort,
      loadFiles: files,
      wasmBackend: offscreen.provider,
      tokenizer,
      prefer: 'wasm',
      onBackendChange: (...c) => changes.push(c),
    });
    expect(engine.threads).toBe(2);
    offscreen.moveToWorker('offscreen document unavailable');
    expect(engine.threads).toBe(1);
    expect(changes).toEqual([
      ['wasm', 'WASM requested', 2],
      ['wasm', 'offscreen document unavailable', 1],
    ]);
    await engine.dispose();
  });

  it('does not report a thread change of the WASM kept behind WebGPU', async () => {
    withGpu();
    const offscreen = fakeOffscreenWasm();
    const changes: Change[] = [];
    const engine = await ClipEngine.create({ spec, ort: fakeOrt().ort, loadFiles: files, wasmBackend: offscreen.provider, tokenizer, prefer: 'auto', onBackendChange: (...c) => changes.push(c) });
    expect(await engine.settled()).toBe('webgpu');
    const before = changes.length;
    offscreen.moveToWorker('offscreen document unavailable');
    expect(changes).toHaveLength(before);
    expect(engine.threads).toBeNull();
    await engine.dispose();
  });
});
