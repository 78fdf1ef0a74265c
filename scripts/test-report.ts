// What `npm test` reads from vitest's JSON reports (scripts/test.ts).

/** The part of vitest's JSON report read here. */
export interface VitestReport {
  testResults?: {
    name: string;
    status: string;
    message?: string;
    assertionResults?: { status: string; fullName: string; failureMessages?: string[] }[];
  }[];
}

/** Longest error text kept per failed test: one line of a log, not its stack. */
const ERROR_CHARS = 300;

/**
 * The failed tests of a report, a line each with the first line of its error, and the files that
 * failed with no test failed (they did not load, or a hook threw): a log that keeps only its tail,
 * as CI's does, still names what failed above the summary line.
 */
export function failedTests(report: VitestReport, root = process.cwd()): string[] {
  const firstLine = (text = '') => text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((line) => line.trim())?.slice(0, ERROR_CHARS) ?? '';
  const lines: string[] = [];
  for (const file of report.testResults ?? []) {
    const where = file.name.startsWith(`${root}/`) ? file.name.slice(root.length + 1) : file.name;
    const tests = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
    if (file.status === 'failed' && tests.length === 0) lines.push(`${where}: ${firstLine(file.message)}`);
    for (const test of tests) lines.push(`${where} › ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
  }
  return lines;
}
