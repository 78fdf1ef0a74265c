import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNumber, t, tn } from '../i18n';
import { checkLocales, formatMessage, mergeAreas } from './catalog';
import { LOCALES_DIR, readLocaleSources } from './node-source';

const SRC = join(LOCALES_DIR, '..');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'locales' ? [] : sourceFiles(path);
    return /\.(ts|html)$/.test(name) && !name.endsWith('.test.ts') && name !== 'i18n.ts' ? [path] : [];
  });
}

describe('message files', () => {
  const sources = readLocaleSources();
  const en = mergeAreas('en', sources.en);

  it('every language has the English keys with the same substitutions', () => {
    expect(Object.keys(sources).sort()).toEqual(['de', 'en']);
    expect(checkLocales(sources)).toEqual([]);
  });

  it('finds a missing key, a stray key, a changed substitution and a duplicate', () => {
    const broken = {
      en: { a: { x: { message: 'one $1' }, y: { message: 'y' } }, b: { x: { message: 'again' } } },
      de: { a: { x: { message: 'eins' }, z: { message: 'z' } } },
    };
    const problems = checkLocales(broken).join('\n');
    expect(problems).toMatch(/"x" is defined in a\.json and b\.json/);
    const fixed = { en: { a: broken.en.a }, de: broken.de };
    expect(checkLocales(fixed)).toEqual(['de: "x" uses other substitutions than en', 'de: "y" missing', 'de: "z" is not in en']);
  });

  it('every data-i18n key in the pages exists', () => {
    const missing: string[] = [];
    for (const file of sourceFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/data-i18n="([^"]+)"/g)) if (!(m[1] in en)) missing.push(`${file}: ${m[1]}`);
      for (const m of text.matchAll(/data-i18n-attr="([^"]+)"/g)) {
        for (const pair of m[1].split(';')) {
          const key = pair.split(':')[1]?.trim();
          if (key && !(key in en)) missing.push(`${file}: ${key}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('turns $1 into named placeholders that both browsers resolve, and $$ into $', () => {
    const merged = mergeAreas('en', { a: { k: { message: '$1 of $2 cost US$$5' } } });
    expect(merged.k.message).toBe('$p1$ of $p2$ cost US$$5');
    expect(merged.k.placeholders).toEqual({ p1: { content: '$1' }, p2: { content: '$2' } });
    expect(formatMessage(merged.k, ['3', '9'])).toBe('3 of 9 cost US$5');
  });

  it('t() and tn() read the English files in Node', () => {
    expect(t('extName')).toBe('MobileCLIP Lens');
    expect(formatNumber(1386)).toBe('1,386');
    const plural = mergeAreas('en', { a: { n_one: { message: '$1 image' }, n_other: { message: '$1 images' } } });
    expect([formatMessage(plural.n_one, ['1']), formatMessage(plural.n_other, ['5'])]).toEqual(['1 image', '5 images']);
    expect(typeof tn).toBe('function');
  });
});
