import { defineConfig } from 'vite';
import { crx, type ManifestV3Export } from '@crxjs/vite-plugin';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { browserManifest, type Target, type Flavor } from './scripts/manifest.ts';

// One config, four outputs: {chrome, firefox} x {release → dist/, test → dist-test/}.
// scripts/build.ts sets EXT_TARGET and EXT_FLAVOR and calls vite once per output.
const target = (process.env.EXT_TARGET ?? 'chrome') as Target;
const flavor = (process.env.EXT_FLAVOR ?? 'release') as Flavor;
const outDir = process.env.EXT_OUT_DIR ?? resolve(flavor === 'test' ? 'dist-test' : 'dist', target);
const base = JSON.parse(readFileSync(resolve('manifest.json'), 'utf8'));

// ORT starts its WASM threads as module Workers that import the chunk holding ORT
// (import.meta.url): that chunk must be that one ORT build alone, not a page's code nor a
// second build (each would take the worker for its own).
const ortChunk = (id: string) => /\/node_modules\/onnxruntime-web\/dist\/(ort[\w.]*?)(\.min)?\.m?js$/.exec(id)?.[1];

export default defineConfig({
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // ORT's bundle is ~1 MB minified; it is loaded once per background start, so a warning adds nothing.
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
    rollupOptions: {
      // Chrome's offscreen document (WASM threads) is no manifest entry, so crxjs needs it named.
      input: target === 'chrome' ? { offscreen: resolve('src/offscreen/offscreen.html') } : {},
      output: {
        manualChunks: ortChunk,
      },
    },
  },
  // The offscreen document's engine worker (src/offscreen/engine-worker.ts): an ES module, so that
  // ORT's thread workers can import ORT's chunk, which must stand alone here too.
  worker: {
    format: 'es',
    rollupOptions: { output: { manualChunks: ortChunk } },
  },
  // Firefox has no WebGPU here (the build runs WASM only), so its `onnxruntime-web` is the
  // WASM-only build: no JSEP/WebGPU module nor its twice-as-large .wasm in the package.
  resolve: {
    alias: target === 'firefox' ? [{ find: /^onnxruntime-web$/, replacement: 'onnxruntime-web/wasm' }] : [],
  },
  define: {
    __TARGET__: JSON.stringify(target),
    __TEST_BUILD__: JSON.stringify(flavor === 'test'),
  },
  plugins: [
    crx({
      manifest: browserManifest(base, target, flavor) as ManifestV3Export,
      browser: target,
      contentScripts: { standaloneFiles: ['src/content/main.ts'] },
    }),
  ],
});
