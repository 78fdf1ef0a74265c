/**
 * Launching Chromium and Firefox with an unpacked extension for e2e tests, plus a small common page
 * adapter so one test body can drive both browsers.
 *
 * What works here (verified with Chromium 156 / Firefox ESR 153, headless, as root, no network):
 *
 * Chromium (playwright-core `launchPersistentContext`, executablePath /usr/bin/chromium):
 *  - `--load-extension` + `--disable-extensions-except` work in the (new) headless mode once
 *    playwright's default `--disable-extensions` is dropped (ignoreDefaultArgs). `--no-sandbox` is
 *    needed as root.
 *  - The MV3 service worker shows up as `context.serviceWorkers()` (or the 'serviceworker' event);
 *    its URL host is the extension id. `worker.evaluate(() => chrome.tabs.query({}))` works, so the
 *    tab id of any page is found by matching its URL.
 *  - Extension pages open as normal tabs: `page.goto('chrome-extension://<id>/popup.html?tab=N')`.
 *  - WebGPU: with `--enable-unsafe-webgpu`, `navigator.gpu.requestAdapter()` in the service worker
 *    returns a SwiftShader (CPU) adapter (info.architecture === 'swiftshader').
 *  - If the MV3 worker gets stopped (idle timeout — unlikely while DevTools is attached — or
 *    CDP ServiceWorker.stopAllWorkers), playwright keeps the stale Worker and its evaluate() hangs;
 *    `serviceWorker()` below detects that and wakes the worker with a runtime message sent from an
 *    extension page.
 *
 * Firefox (puppeteer-core over WebDriver BiDi, executable /usr/lib/firefox-esr/firefox-esr):
 *  - `browser.installExtension(dir)` installs the unpacked extension as a temporary add-on and
 *    returns its add-on id (the manifest's browser_specific_settings.gecko.id). The moz-extension
 *    UUID is fixed up front with the pref `extensions.webextensions.uuids` = {"<addonId>":"<uuid>"}.
 *  - MV3 host permissions listed in the manifest are granted at install (content scripts run on
 *    http://127.0.0.1 without any prompt).
 *  - By default BiDi refuses `browsingContext.navigate` to moz-extension:// ("Navigation to ... is
 *    not allowed in this context"), and `window.open(moz-extension://...)` from a web page is denied.
 *    Starting Firefox with `--remote-allow-system-access` lifts the navigation restriction
 *    (see remote/.../browsingContext.sys.mjs: `!RemoteAgent.allowSystemAccess &&
 *    !isWebdriverSafeNavigationURL`), so the harness needs NO hook in the extension.
 *  - BUT BiDi never reports load events for moz-extension documents: `page.goto()`/`reload()` time
 *    out, and puppeteer's `page.url()` stays 'about:blank'. So navigation to extension pages is sent
 *    with `wait: 'none'` and completion is detected by polling `location.href`/`document.readyState`
 *    (see `navigate()`); afterwards evaluate, waitForSelector, locator().fill()/click() work normally
 *    and the page's main world has the `browser.*` extension APIs.
 *  - Tab ids: there is no background page to evaluate in (the MV3 event page is not a BiDi context),
 *    so a "control" extension page (default popup.html, opened once in its own tab and reused)
 *    runs `browser.tabs.query({})`, matching by URL. Note this extra tab counts in tab totals.
 *  - Also verified (alternative, not needed now): an extension-side `tabs.create({url})` (e.g. a
 *    test-build content-script hook) opens moz-extension pages; puppeteer sees the new tab
 *    (url reported as about:blank) and can evaluate in it.
 *
 * Tab-id lookup needs the extension to see tab URLs: the "tabs" permission or host permissions
 * matching the page.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page as PwPage, type Worker } from 'playwright-core';
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from 'puppeteer-core';

export const CHROMIUM_PATH = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

/** The Firefox binary: $E2E_FIREFOX, else the first Debian firefox-esr path that exists. */
export function findFirefox(): string | undefined {
  if (process.env.E2E_FIREFOX) return existsSync(process.env.E2E_FIREFOX) ? process.env.E2E_FIREFOX : undefined;
  return ['/usr/lib/firefox-esr/firefox-esr', '/usr/bin/firefox-esr', '/usr/lib/firefox/firefox', '/usr/bin/firefox'].find((p) =>
    existsSync(p),
  );
}

/**
 * The language pack that lets Firefox (and so extensions' `i18n`) run in `lang`, as Debian's
 * firefox-esr-l10n-<lang> installs it beside the browser; undefined when it is not there. Firefox
 * only switches to a requested locale (pref `intl.locale.requested`) it has a language pack for.
 */
export function firefoxLangpack(lang: string): string | undefined {
  const firefox = findFirefox();
  if (!firefox) return undefined;
  const dir = join(dirname(realpathSync(firefox)), 'browser', 'extensions');
  const pack = existsSync(dir) ? readdirSync(dir).find((name) => name.startsWith(`langpack-${lang}@`)) : undefined;
  return pack && join(dir, pack);
}

/** Query parameter the popup takes to know which tab it acts on: popup.html?tab=<tabId>. */
export function popupPath(tabId: number, page = 'popup.html'): string {
  return `${page}?tab=${tabId}`;
}

// ---------------------------------------------------------------------------------------------
// Common page adapter

/** Minimal common surface over a playwright (Chromium) or puppeteer (Firefox) page. */
export interface HPage {
  /** The real current URL (for Firefox extension pages puppeteer's own url() is wrong). */
  url(): Promise<string>;
  title(): Promise<string>;
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  waitFor(selector: string, timeoutMs?: number): Promise<void>;
  /** textContent of the first match (waits for it). */
  text(selector: string): Promise<string>;
  /** Clears the input and types `value` (real key events). */
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  /** Navigates this tab (http(s) or extension URL) and waits for the load to finish. */
  goto(url: string): Promise<void>;
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface Harness {
  readonly name: 'chromium' | 'firefox';
  /** chrome-extension://<id>/ or moz-extension://<uuid>/ */
  readonly extensionBaseUrl: string;
  /** ms from launch start until the extension was usable */
  readonly launchMs: number;
  /** New tab at `url`; a relative url is resolved against extensionBaseUrl. */
  openPage(url: string): Promise<HPage>;
  /** The WebExtension tab id of `page`. */
  tabIdOf(page: HPage): Promise<number>;
  /** Runs `fn` in an extension context (Chromium: service worker; Firefox: control page). */
  evalInExtension<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  close(): Promise<void>;
}

interface TabInfo {
  id?: number;
  url?: string;
  title?: string;
}

/** Runs in an extension context: all tabs (id/url/title). */
const queryTabs = async (): Promise<TabInfo[]> => {
  const g = globalThis as unknown as { browser?: ExtApi; chrome?: ExtApi };
  const api = (g.browser ?? g.chrome) as ExtApi;
  const tabs = await api.tabs.query({});
  return tabs.map((t) => ({ id: t.id, url: t.url, title: t.title }));
};
interface ExtApi {
  tabs: { query(q: object): Promise<TabInfo[]> };
  runtime: { sendMessage(m: unknown): Promise<unknown> };
}

/**
 * Finds the tab showing `page`: by URL; if several tabs share it, tags the page's title with a
 * unique marker for the lookup and restores it afterwards.
 */
async function findTabId(page: HPage, tabs: () => Promise<TabInfo[]>): Promise<number> {
  const href = await page.url();
  const byUrl = (await tabs()).filter((t) => t.url === href && typeof t.id === 'number');
  if (byUrl.length === 1) return byUrl[0].id as number;
  const marker = `e2e-tab-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const oldTitle = await page.evaluate((m) => {
    const t = document.title;
    document.title = m;
    return t;
  }, marker);
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const hit = (await tabs()).find((t) => t.title === marker && typeof t.id === 'number');
      if (hit) return hit.id as number;
      if (Date.now() > deadline) throw new Error(`no tab found for ${href} (does the extension see tab URLs/titles?)`);
      await sleep(100);
    }
  } finally {
    await page.evaluate((t) => {
      document.title = t;
    }, oldTitle);
  }
}

/** Whether the worker answers an evaluate within `ms` (a stopped worker's evaluate just hangs). */
async function isAlive(w: Worker, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([w.evaluate(() => true).catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Chromium

export interface ChromiumOptions {
  /** adds --enable-unsafe-webgpu (SwiftShader WebGPU on CPU, also in the service worker) */
  webgpu?: boolean;
  /** extra command-line switches */
  args?: string[];
  /** default true */
  headless?: boolean;
  /** Profile to use and keep on close (a browser restart with the same profile); default: a fresh temporary one, deleted on close. */
  userDataDir?: string;
  /** See applyBackgroundIndexing. */
  indexInBackground?: boolean;
}

/**
 * The extension indexes a page only when asked (popup, menu, shortcut) unless the setting
 * "Index pages in the background" is on. Most tests are about indexing, not about when it
 * starts: the harness switches the setting on unless told `indexInBackground: false`
 * (e2e/hostile-pages.test.ts checks the default).
 */
async function applyBackgroundIndexing(harness: Harness, extensionDir: string, on: boolean | undefined): Promise<void> {
  // Only our own build has the setting (the harness's own tests load a stand-in extension).
  if (!(on ?? isLensBuild(extensionDir))) return;
  await harness.evalInExtension(async () => {
    const g = globalThis as unknown as { browser?: StorageApi; chrome?: StorageApi };
    const api = (g.browser ?? g.chrome) as StorageApi;
    const { settings } = await api.storage.local.get('settings');
    await api.storage.local.set({ settings: { ...(settings as object | undefined), indexInBackground: true } });
  });
}
function isLensBuild(extensionDir: string): boolean {
  try {
    // Our manifest's name is localised: `__MSG_extName__`, resolved from `_locales/`.
    return existsSync(join(extensionDir, '_locales')) && (JSON.parse(readFileSync(join(extensionDir, 'manifest.json'), 'utf8')) as { name?: string }).name === '__MSG_extName__';
  } catch {
    return false;
  }
}
interface StorageApi {
  storage: { local: { get(key: string): Promise<Record<string, unknown>>; set(items: object): Promise<void> } };
}

export interface ChromiumHarness extends Harness {
  readonly name: 'chromium';
  readonly context: BrowserContext;
  readonly extensionId: string;
  readonly userDataDir: string;
  /** A live extension service worker (wakes it if Chromium stopped it). */
  serviceWorker(): Promise<Worker>;
  /** The playwright page behind an HPage made by this harness. */
  raw(page: HPage): PwPage;
}

class PwHPage implements HPage {
  constructor(readonly page: PwPage) {}
  async url(): Promise<string> {
    return this.page.url();
  }
  title(): Promise<string> {
    return this.page.title();
  }
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    // The generic A does not fit playwright's Unboxed<Arg> typing; the runtime contract is the same.
    return this.page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg as unknown);
  }
  async waitFor(selector: string, timeoutMs = 30_000): Promise<void> {
    await this.page.waitForSelector(selector, { timeout: timeoutMs, state: 'attached' });
  }
  async text(selector: string): Promise<string> {
    await this.waitFor(selector);
    return (await this.page.textContent(selector)) ?? '';
  }
  async fill(selector: string, value: string): Promise<void> {
    await this.page.fill(selector, '');
    await this.page.locator(selector).pressSequentially(value);
  }
  async click(selector: string): Promise<void> {
    await this.page.click(selector);
  }
  async goto(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'load' });
  }
  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path });
  }
  async close(): Promise<void> {
    await this.page.close();
  }
}

/**
 * Playwright enables DevTools' network inspection in every service worker it attaches to (to
 * report the worker's requests), and DevTools then keeps the bodies of the worker's responses in
 * the worker's process: all the pictures it fetched, memory no browser without DevTools attached
 * holds (bench/README.md, peak memory). Nothing here reads those events. Set to an empty string
 * beforehand to have them (and the bodies kept) again.
 */
process.env.PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK ??= '1';

export async function launchChromium(extensionDir: string, opts: ChromiumOptions = {}): Promise<ChromiumHarness> {
  const t0 = Date.now();
  const userDataDir = opts.userDataDir ?? (await mkdtemp(join(tmpdir(), 'e2e-chromium-')));
  const removeProfile = async (): Promise<void> => {
    if (!opts.userDataDir) await rm(userDataDir, { recursive: true, force: true });
  };
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
    `--disable-extensions-except=${extensionDir}`,
    `--load-extension=${extensionDir}`,
    ...(opts.webgpu ? ['--enable-unsafe-webgpu'] : []),
    ...(opts.args ?? []),
  ];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: opts.headless ?? true,
      ignoreDefaultArgs: ['--disable-extensions'],
      args,
      viewport: { width: 1280, height: 800 },
    });
  } catch (e) {
    await removeProfile();
    throw e;
  }
  const isOurs = (w: Worker): boolean => w.url().startsWith('chrome-extension://');
  let worker = context.serviceWorkers().find(isOurs);
  try {
    worker ??= await context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 30_000 });
  } catch (e) {
    await context.close().catch(() => undefined);
    await removeProfile();
    throw new Error(`no extension service worker within 30 s — is ${extensionDir} a valid MV3 build? (${String(e)})`);
  }
  const extensionId = new URL(worker.url()).host;
  const extensionBaseUrl = `chrome-extension://${extensionId}/`;
  const swPrefix = extensionBaseUrl;
  const launchMs = Date.now() - t0;

  const findWorker = (): Worker | undefined => context.serviceWorkers().find((w) => w.url().startsWith(swPrefix));
  const serviceWorker = async (): Promise<Worker> => {
    const known = findWorker();
    if (known && (await isAlive(known, 2000))) return known;
    // Stopped (idle timeout or ServiceWorker.stopAllWorkers): playwright keeps the stale Worker (no
    // 'close' event) and evaluate() on it hangs until the worker runs again. A runtime message from
    // an extension page restarts it; after that the same Worker object (or a new one) answers.
    const p = await context.newPage();
    try {
      await p.goto(`${extensionBaseUrl}manifest.json`);
      await p.evaluate(() => {
        const api = (globalThis as unknown as { chrome: ExtApi }).chrome;
        api.runtime.sendMessage({ type: 'e2e:ping' }).catch(() => undefined);
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const w = findWorker();
        if (w && (await isAlive(w, 2000))) return w;
        if (Date.now() > deadline) throw new Error('extension service worker did not come back');
        await sleep(200);
      }
    } finally {
      await p.close();
    }
  };
  const evalInExtension = async <R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> => {
    const w = await serviceWorker();
    return w.evaluate(fn as (arg: unknown) => R | Promise<R>, arg as unknown);
  };

  const harness: ChromiumHarness = {
    name: 'chromium',
    context,
    extensionId,
    extensionBaseUrl,
    userDataDir,
    launchMs,
    serviceWorker,
    evalInExtension,
    raw: (page) => {
      if (!(page instanceof PwHPage)) throw new TypeError('not a Chromium harness page');
      return page.page;
    },
    async openPage(url: string): Promise<HPage> {
      const page = await context.newPage();
      const hp = new PwHPage(page);
      await hp.goto(new URL(url, extensionBaseUrl).href);
      return hp;
    },
    tabIdOf: (page) => findTabId(page, () => evalInExtension(queryTabs)),
    async close(): Promise<void> {
      await context.close().catch(() => undefined);
      await removeProfile();
    },
  };
  await applyBackgroundIndexing(harness, extensionDir, opts.indexInBackground);
  return harness;
}

/** Stops every service worker of the profile (CDP), as Chromium does after its idle timeout. */
export async function stopServiceWorkers(harness: ChromiumHarness): Promise<void> {
  const helper = await harness.context.newPage();
  try {
    const cdp = await harness.context.newCDPSession(helper);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
  } finally {
    await helper.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Firefox

export interface FirefoxOptions {
  /** the manifest's browser_specific_settings.gecko.id */
  addonId: string;
  /** fixed moz-extension UUID (lower-case 8-4-4-4-12 hex) */
  uuid: string;
  /** extension page used to run browser.* calls for the harness (tab ids); default 'popup.html' */
  controlPath?: string;
  /** extra prefs */
  prefs?: Record<string, unknown>;
  /** extra command-line switches */
  args?: string[];
  /** default true */
  headless?: boolean;
  /** See applyBackgroundIndexing. */
  indexInBackground?: boolean;
}

export interface FirefoxHarness extends Harness {
  readonly name: 'firefox';
  readonly browser: PpBrowser;
  readonly addonId: string;
  readonly uuid: string;
  /** The puppeteer page behind an HPage made by this harness. */
  raw(page: HPage): PpPage;
}

interface BidiFrameLike {
  browsingContext?: { navigate(url: string, wait?: 'none' | 'interactive' | 'complete'): Promise<void> };
}

class PpHPage implements HPage {
  constructor(readonly page: PpPage) {}
  async url(): Promise<string> {
    // puppeteer keeps 'about:blank' for moz-extension documents (no BiDi navigation events).
    return this.page.evaluate(() => location.href);
  }
  title(): Promise<string> {
    return this.page.evaluate(() => document.title);
  }
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    return this.page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg as unknown) as Promise<R>;
  }
  async waitFor(selector: string, timeoutMs = 30_000): Promise<void> {
    await this.page.waitForSelector(selector, { timeout: timeoutMs });
  }
  async text(selector: string): Promise<string> {
    await this.waitFor(selector);
    return this.page.$eval(selector, (e) => e.textContent ?? '');
  }
  async fill(selector: string, value: string): Promise<void> {
    await this.waitFor(selector);
    await this.page.$eval(selector, (e) => {
      (e as HTMLInputElement).value = '';
    });
    await this.page.type(selector, value);
  }
  async click(selector: string): Promise<void> {
    // Puppeteer finds the element, then clicks it in a second round trip: a page that replaced the
    // element in between (a re-render) fails the click although the selector still matches.
    for (let attempt = 0; ; attempt++) {
      await this.waitFor(selector);
      try {
        return await this.page.click(selector);
      } catch (error) {
        if (attempt >= 4 || !/detached/i.test(String(error))) throw error;
      }
    }
  }
  async goto(url: string): Promise<void> {
    if (!url.startsWith('moz-extension:')) {
      await this.page.goto(url, { waitUntil: 'load' });
      return;
    }
    // No load events for moz-extension documents: navigate without waiting, then poll.
    const frame = this.page.mainFrame() as unknown as BidiFrameLike;
    if (!frame.browsingContext) throw new Error('puppeteer internals changed: no BiDi browsingContext on the frame');
    await frame.browsingContext.navigate(url, 'none');
    const want = new URL(url).href;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = await this.page
        .evaluate(() => [location.href, document.readyState] as const)
        .catch(() => undefined); // the context may be torn down mid-navigation
      if (state && state[0] === want && state[1] === 'complete') return;
      if (Date.now() > deadline) throw new Error(`timed out navigating to ${url} (at ${state?.[0]} ${state?.[1]})`);
      await sleep(50);
    }
  }
  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path });
  }
  async close(): Promise<void> {
    await this.page.close();
  }
}

export async function launchFirefox(extensionDir: string, opts: FirefoxOptions): Promise<FirefoxHarness> {
  const executablePath = findFirefox();
  if (!executablePath) throw new Error('firefox-esr not found (install with: sudo apt-get install -y firefox-esr)');
  const t0 = Date.now();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: opts.headless ?? true,
    // Lets BiDi navigate tabs to moz-extension:// URLs (see top of file).
    args: ['--remote-allow-system-access', ...(opts.args ?? [])],
    defaultViewport: { width: 1280, height: 800 },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [opts.addonId]: opts.uuid }),
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'app.update.enabled': false,
      ...opts.prefs,
    },
  });
  let installedId: string;
  try {
    installedId = await browser.installExtension(extensionDir);
  } catch (e) {
    await browser.close().catch(() => undefined);
    throw e;
  }
  if (installedId !== opts.addonId) {
    await browser.close().catch(() => undefined);
    throw new Error(`installed add-on id ${installedId} != expected ${opts.addonId} (check browser_specific_settings.gecko.id)`);
  }
  const extensionBaseUrl = `moz-extension://${opts.uuid}/`;
  const launchMs = Date.now() - t0;

  const openPage = async (url: string): Promise<HPage> => {
    const page = await browser.newPage();
    const hp = new PpHPage(page);
    await hp.goto(new URL(url, extensionBaseUrl).href);
    return hp;
  };
  let control: Promise<HPage> | undefined;
  const controlPage = (): Promise<HPage> => {
    control ??= openPage(opts.controlPath ?? 'popup.html').catch((e: unknown) => {
      control = undefined;
      throw e;
    });
    return control;
  };
  const evalInExtension = async <R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> => {
    const page = await controlPage();
    try {
      return await page.evaluate(fn, arg);
    } catch (error) {
      // Reloading the add-on (runtime.reload) closes its pages, the control page with them: open it again.
      const gone = (page as PpHPage).page.isClosed() || /no such frame|Browsing Context .* not found/i.test(String(error));
      if (!gone) throw error;
      control = undefined;
      return (await controlPage()).evaluate(fn, arg);
    }
  };

  const harness: FirefoxHarness = {
    name: 'firefox',
    browser,
    addonId: opts.addonId,
    uuid: opts.uuid,
    extensionBaseUrl,
    launchMs,
    openPage,
    evalInExtension,
    raw: (page) => {
      if (!(page instanceof PpHPage)) throw new TypeError('not a Firefox harness page');
      return page.page;
    },
    tabIdOf: (page) => findTabId(page, () => evalInExtension(queryTabs)),
    async close(): Promise<void> {
      await browser.close().catch(() => undefined);
    },
  };
  await applyBackgroundIndexing(harness, extensionDir, opts.indexInBackground);
  return harness;
}
