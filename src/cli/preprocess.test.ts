import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const refDir = path.resolve(repoRoot, '../shared/refs/preprocess');

/** Runs the CLI the way people do, as a separate process; resolves with its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('cli preprocess', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cli-preprocess-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes exactly the reference bytes for a reference case', async () => {
    const output = path.join(dir, 'landscape.rgb');
    const result = await cli('preprocess', '--size', '256', path.join(refDir, 'landscape.png'), output);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const actual = await readFile(output);
    const expected = await readFile(path.join(refDir, 'landscape.rgb'));
    expect(actual.length).toBe(256 * 256 * 3);
    expect(actual.equals(expected)).toBe(true);
  });

  it('exits with status 2 and usage on a malformed command line', async () => {
    const result = await cli('preprocess', '--size', '0', path.join(refDir, 'landscape.png'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--size must be a positive integer/);
    expect(result.stderr).toMatch(/usage: preprocess/);
  });
});
