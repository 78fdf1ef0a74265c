// Checks on the release builds (npm test builds them before the browser tests) for what the
// test builds deliberately do differently, so that a test build's convenience never ships.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const TARGETS = ['chrome', 'firefox'] as const;

describe.each(TARGETS)('release build for %s', (target) => {
  const dir = resolve('dist', target);
  const built = existsSync(resolve(dir, 'manifest.json'));

  it('exists (npm run build)', () => {
    expect(built).toBe(true);
  });

  it('draws its overlay in a closed shadow root, so pages cannot read ranks, scores or labels', () => {
    const content = readFileSync(resolve(dir, 'src/content/main.js'), 'utf8');
    const modes = [...content.matchAll(/attachShadow\(\{\s*mode:\s*["'`](\w+)["'`]/g)].map((m) => m[1]);
    expect(modes.length).toBeGreaterThan(0);
    expect(new Set(modes)).toEqual(new Set(['closed']));
  });

  it('asks only for the permissions it uses, with downloads optional', () => {
    const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8'));
    expect(manifest.permissions).not.toContain('scripting');
    expect(manifest.permissions).not.toContain('downloads');
    expect(manifest.optional_permissions ?? []).toContain('downloads');
  });
});
