import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const mergesGz = path.join(shared, 'clip-bpe/bpe_simple_vocab_16e6.txt.gz');
const referenceCases: { text: string; input_ids: number[] }[] = JSON.parse(
  readFileSync(path.join(shared, 'refs/clip-tokenizer-cases.json'), 'utf8'),
);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', ...args], {
      cwd: repoRoot,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('cli tokenize', () => {
  it('prints one JSON line per text with the reference ids', async () => {
    const reference = referenceCases.find((c) => c.text === 'a photo of a <|startoftext|> token');
    expect(reference).toBeDefined();
    const { code, stdout } = await cli(['tokenize', '--bpe', mergesGz, reference!.text, 'red car']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual(reference);
    expect(lines[1].text).toBe('red car');
    expect(lines[1].input_ids.slice(0, 4)).toEqual([49406, 736, 1615, 49407]);
  });

  it('exits with 2 and usage on stderr for an unknown command', async () => {
    const { code, stdout, stderr } = await cli(['no-such-command']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/unknown command: no-such-command/);
    expect(stderr).toMatch(/usage:.*\n.*tokenize --bpe PATH/s);
  });
});
