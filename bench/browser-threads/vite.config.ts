import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Builds the thread-benchmark extension into the git-ignored .cache/bench-threads-ext.
// ORT goes into a chunk of its own: its WASM threads start as module Workers that load the
// chunk holding ORT (import.meta.url), and that chunk must not run the page's own code.
const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../.cache/bench-threads-ext', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: { sw: `${here}sw.ts`, engine: `${here}engine.html` },
      output: {
        entryFileNames: '[name].js',
        manualChunks: (id: string) => (id.includes('/onnxruntime-web/') ? 'ort' : undefined),
      },
    },
  },
});
