// Installs the browsers `npm start` and `npm test` need when they are missing, so the README's
// two commands are the whole set-up on a fresh Debian/Ubuntu machine. Browsers come from the
// distribution's packages: playwright's and puppeteer's own browser downloads are not used
// (tests drive Debian's Chromium and Firefox ESR through playwright-core and puppeteer-core).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, findFirefox, firefoxLangpack } from '../e2e/browsers.ts';

type BrowserName = 'chromium' | 'firefox';

// Firefox comes with its German language pack: e2e/locale.test.ts runs the popup in German.
const PACKAGES: Record<BrowserName, string[]> = { chromium: ['chromium'], firefox: ['firefox-esr', 'firefox-esr-l10n-de'] };
const present: Record<BrowserName, () => boolean> = {
  chromium: () => existsSync(CHROMIUM_PATH),
  firefox: () => findFirefox() !== undefined && firefoxLangpack('de') !== undefined,
};

function run(cmd: string[]): boolean {
  return spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

/** How to run apt-get here: directly as root, through sudo when it is there, else not at all. */
function aptPrefix(): string[] | null {
  if (process.getuid?.() === 0) return [];
  if (spawnSync('sh', ['-c', 'command -v sudo'], { stdio: 'ignore' }).status === 0) return ['sudo'];
  return null;
}

/** Makes sure the named browsers are installed; exits with a one-line instruction when it cannot. */
export function ensureBrowsers(names: BrowserName[]): void {
  const missing = names.filter((n) => !present[n]());
  if (missing.length === 0) return;
  const packages = missing.flatMap((n) => PACKAGES[n]);
  const prefix = aptPrefix();
  const instruction = `sudo apt-get install -y ${packages.join(' ')}`;
  if (!prefix || !existsSync('/usr/bin/apt-get')) {
    console.error(`Missing ${packages.join(' and ')}; this machine has no apt-get${prefix ? '' : ' rights'} to install it. Install it with: ${instruction}`);
    process.exit(1);
  }
  console.log(`Installing ${packages.join(' and ')} from the distribution's packages (apt-get${prefix.length ? ' through sudo' : ''}); this happens once…`);
  const ok = run([...prefix, 'apt-get', 'update', '-qq']) && run([...prefix, 'apt-get', 'install', '-y', '-qq', ...packages]);
  const still = missing.filter((n) => !present[n]());
  if (!ok || still.length > 0) {
    console.error(`Could not install ${still.flatMap((n) => PACKAGES[n]).join(' and ') || packages.join(' and ')}. Install it with: ${instruction}`);
    process.exit(1);
  }
  console.log(`Installed ${packages.join(' and ')}.`);
}
