import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failedTests } from './test-report';

describe('failedTests', () => {
  // A real vitest report: its shape is vitest's, not this test's idea of it.
  const dir = mkdtempSync(join(tmpdir(), 'lens-test-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names each failed test with the first line of its error, and each file that did not load', () => {
    writeFileSync(join(dir, 'mixed.test.ts'), [
      "it('passes', () => expect(1).toBe(1));",
      "describe('order', () => { it('is kept', () => expect([1, 0]).toEqual([0, 1])); });",
    ].join('\n'));
    writeFileSync(join(dir, 'broken.test.ts'), "import './not-there';\nit('never runs', () => {});\n");
    const out = join(dir, 'report.json');
    const run = spawnSync('npx', ['vitest', 'run', '--root', dir, '--globals', '--reporter=json', `--outputFile.json=${out}`], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    const lines = failedTests(JSON.parse(readFileSync(out, 'utf8')), dir);
    expect(lines.sort()).toEqual([
      expect.stringMatching(/^broken\.test\.ts: .*not-there/),
      'mixed.test.ts › order is kept: AssertionError: expected [ 1, +0 ] to deeply equal [ +0, 1 ]',
    ]);
  });

  it('has nothing to say of a report with no failure', () => {
    expect(failedTests({ testResults: [{ name: '/r/a.test.ts', status: 'passed', assertionResults: [{ status: 'passed', fullName: 'a' }] }] }, '/r')).toEqual([]);
  });
});
