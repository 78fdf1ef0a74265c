// `npm run package`: builds the release extensions and zips each for its store:
// release/mobileclip-lens-<version>-chrome.zip and -firefox.zip (manifest at the zip root).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { zipSync, type Zippable } from 'fflate';

const root = resolve(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

if (!process.argv.includes('--no-build')) {
  const built = spawnSync('npx', ['tsx', 'scripts/build.ts'], { stdio: 'inherit', cwd: root });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

function collect(dir: string, base = dir, into: Zippable = {}): Zippable {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, base, into);
    // Already-compressed WASM and model files gain little from deflate; store them to save time.
    else into[relative(base, path).split('\\').join('/')] = [readFileSync(path), { level: /\.(wasm|onnx|png|gz)$/.test(name) ? 0 : 9 }];
  }
  return into;
}

mkdirSync(join(root, 'release'), { recursive: true });
for (const target of ['chrome', 'firefox']) {
  const zip = zipSync(collect(join(root, 'dist', target)), { mtime: new Date('2026-01-01T00:00:00Z') });
  const out = join(root, 'release', `mobileclip-lens-${version}-${target}.zip`);
  writeFileSync(out, zip);
  console.log(`${relative(root, out)}: ${(zip.length / 1e6).toFixed(1)} MB`);
}
