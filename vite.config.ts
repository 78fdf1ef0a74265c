import { defineConfig } from 'vite';
import { crx, type ManifestV3Export } from '@crxjs/vite-plugin';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { browserManifest, type Target, type Flavor } from './scripts/manifest.ts';

// One config, four outputs: {chrome, firefox} x {release → dist/, test → dist-test/}.
// scripts/build.ts sets EXT_TARGET and EXT_FLAVOR and calls vite once per output.
const target = (process.env.EXT_TARGET ?? 'chrome') as Target;
const flavor = (process.env.EXT_FLAVOR ?? 'release') as Flavor;
const outDir = resolve(flavor === 'test' ? 'dist-test' : 'dist', target);
const base = JSON.parse(readFileSync(resolve('manifest.json'), 'utf8'));

export default defineConfig({
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // ORT's bundle is ~1 MB minified; it is loaded once per background start, so a warning adds nothing.
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
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
