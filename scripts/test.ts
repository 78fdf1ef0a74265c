// `npm test`: every test, in the order that fails fastest.
//   1. typecheck   2. unit tests (Node)   3. build both flavours for both browsers
//   4. web-ext lint of the Firefox builds   5. browser end-to-end tests (Chromium, Firefox)
// Ends with one summary line "N passed, N failed" (what CI reads), non-zero exit on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBrowsers } from './ensure-browsers.ts';
import { failedTests } from './test-report.ts';

// The browser end-to-end tests need both browsers: install them first, not after the builds.
ensureBrowsers(['chromium', 'firefox']);

const report = join('.cache', 'test-reports');
rmSync(report, { recursive: true, force: true });
mkdirSync(report, { recursive: true });

interface Step { name: string; cmd: string[]; vitestReport?: string }
const steps: Step[] = [
  { name: 'typecheck', cmd: ['npx', 'tsc', '--noEmit', '-p', '.'] },
  { name: 'unit tests', cmd: ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}/unit.json`], vitestReport: `${report}/unit.json` },
  { name: 'release build', cmd: ['npx', 'tsx', 'scripts/build.ts'] },
  { name: 'test build', cmd: ['npx', 'tsx', 'scripts/build.ts', '--test'] },
  { name: 'web-ext lint (dist/firefox)', cmd: ['npx', 'web-ext', 'lint', '--source-dir', 'dist/firefox', '--self-hosted', '--warnings-as-errors=false'] },
  { name: 'web-ext lint (dist-test/firefox)', cmd: ['npx', 'web-ext', 'lint', '--source-dir', 'dist-test/firefox', '--self-hosted'] },
  { name: 'browser e2e', cmd: ['npx', 'vitest', 'run', '--config', 'vitest.e2e.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${report}/e2e.json`], vitestReport: `${report}/e2e.json` },
];

let passed = 0, failed = 0, skipped = 0;
const failures: string[] = [];
const failedLines: string[] = [];
const started = Date.now();
for (const step of steps) {
  const t0 = Date.now();
  console.log(`\n▶ ${step.name}`);
  const result = spawnSync(step.cmd[0], step.cmd.slice(1), { stdio: 'inherit', env: process.env });
  const ok = result.status === 0;
  if (step.vitestReport && existsSync(step.vitestReport)) {
    const json = JSON.parse(readFileSync(step.vitestReport, 'utf8'));
    passed += json.numPassedTests ?? 0;
    failed += json.numFailedTests ?? 0;
    skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
    failedLines.push(...failedTests(json));
    if (!ok && (json.numFailedTests ?? 0) === 0) { failed++; failures.push(step.name); }
    else if (!ok) failures.push(step.name);
  } else {
    if (ok) passed++;
    else { failed++; failures.push(step.name); }
  }
  console.log(`${ok ? '✔' : '✘'} ${step.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  // Nothing after a failed build or typecheck can mean anything.
  if (!ok && !step.vitestReport) break;
}
if (failedLines.length) console.log(`\nFailed:\n${failedLines.map((line) => `  ${line}`).join('\n')}`);
console.log(`\nnpm test took ${((Date.now() - started) / 1000).toFixed(0)} s${failures.length ? `; failed: ${failures.join(', ')}` : ''}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
