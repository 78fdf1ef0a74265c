// Builds the unpacked extensions:
//   npm run build        → dist/chrome, dist/firefox           (bundles any real model found in models/)
//   npm run build:test   → dist-test/chrome, dist-test/firefox (bundles the generated fixture model)
// Options: --test, --target chrome|firefox (default both), --models DIR (where release builds find
// fetched models; default models/), --out DIR (default dist/ or dist-test/; the benchmark builds
// a release with replica weights there, so it never lands where `npm run package` looks).
import { build } from 'vite';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getModel, requireModel } from '../src/engine/registry';
import { bundleModel } from './bundle-model';
import { makeFixtureModel } from './make-fixture-model';
import { writeLocales } from './locales';
import type { Flavor, Target } from './manifest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flavor: Flavor = args.includes('--test') ? 'test' : 'release';
const targetArg = args[args.indexOf('--target') + 1];
const targets: Target[] = args.includes('--target') ? [targetArg as Target] : ['chrome', 'firefox'];
const optionValue = (name: string): string | undefined => (args.includes(name) ? resolve(args[args.indexOf(name) + 1]) : undefined);
const modelsDir = optionValue('--models') ?? join(root, 'models');
const outRoot = optionValue('--out') ?? join(root, flavor === 'test' ? 'dist-test' : 'dist');

/** Real models fetched with `npm run models:fetch` ship in release builds; the fixture only in test builds. */
function modelsToBundle(): string[] {
  const dir = modelsDir;
  if (flavor === 'test') return ['fixture'];
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    // Only finished downloads: the download writes manifest.json last.
    .filter((d) => d.isDirectory() && getModel(d.name) && !getModel(d.name)!.testOnly && existsSync(join(dir, d.name, 'manifest.json')))
    .map((d) => d.name);
}

async function main(): Promise<void> {
  if (flavor === 'test') await makeFixtureModel(join(modelsDir, 'fixture'));
  const bundled = modelsToBundle();
  for (const target of targets) {
    const started = Date.now();
    process.env.EXT_TARGET = target;
    process.env.EXT_FLAVOR = flavor;
    const out = join(outRoot, target);
    process.env.EXT_OUT_DIR = out;
    await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
    writeLocales(out, flavor);
    // (ORT's WASM binary needs no copying: vite emits it as an asset from ORT's `new URL(..., import.meta.url)`.)
    // Only the files a backend of this browser loads (bundle-model.ts).
    for (const id of bundled) bundleModel(requireModel(id), join(modelsDir, id), join(out, 'models', id), target);
    writeFileSync(join(out, 'bundled-models.json'), JSON.stringify(bundled));
    console.log(`built ${out} (${flavor}${bundled.length ? `, models: ${bundled.join(', ')}` : ', no bundled model'}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
