// Writes `_locales/<lang>/messages.json` into a build from src/locales/ (see src/locales/README.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLocales, mergeAreas } from '../src/locales/catalog';
import { readLocaleSources } from '../src/locales/node-source';
import type { Flavor } from './manifest';

export function writeLocales(outDir: string, flavor: Flavor): string[] {
  const sources = readLocaleSources();
  const problems = checkLocales(sources);
  if (problems.length) throw new Error(`message files:\n  ${problems.join('\n  ')}`);
  const langs = Object.keys(sources);
  for (const lang of langs) {
    const messages = mergeAreas(lang, sources[lang]);
    // The e2e harness tells the test build from a release one by its name.
    if (flavor === 'test') messages.extName = { ...messages.extName, message: `${messages.extName.message} (test build)` };
    mkdirSync(join(outDir, '_locales', lang), { recursive: true });
    writeFileSync(join(outDir, '_locales', lang, 'messages.json'), JSON.stringify(messages, null, 1));
  }
  return langs;
}
