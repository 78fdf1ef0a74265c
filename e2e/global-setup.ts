/** vitest globalSetup for the e2e suite: fail fast, in one line, when a browser is missing. */
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, findFirefox } from './browsers.ts';

export default function setup(): void {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM_PATH)) missing.push(`chromium (${CHROMIUM_PATH})`);
  if (!findFirefox()) missing.push('firefox-esr');
  if (missing.length > 0) {
    // One clear line instead of a stack trace; exit non-zero so CI fails.
    console.error(`e2e: missing ${missing.join(' and ')} — install with: sudo apt-get install -y chromium firefox-esr`);
    process.exit(1);
  }
}
