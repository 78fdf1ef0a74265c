// Where a model's files may come from, in Chromium and Firefox, against the local Hugging Face
// style server (e2e/hf-server.ts, which serves the fixture at the registry's pinned commit and says
// every branch points to it). One browser session walks what a user would see and do:
//   1. the options page's Models section says which models are checked against published hashes
//      (with the commit) and which are trusted on first use;
//   2. choosing the unpinned 'fixture-unverified' there (confirming its download) asks the host
//      which commit `main` is, downloads every file from that commit and records the commit and
//      the hashes it verified;
//   3. after the served text model changed upstream and the stored copy is gone, a restarted
//      background downloads it again from the recorded commit (without asking for `main`) and
//      refuses it: the popup says why in its folded detail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { launchChromium, launchFirefox, popupPath, type Harness, type HPage } from './browsers';
import { restartChromiumWorker, restartFirefoxBackground } from './background-restart';
import { modelMessage } from './model-message';
import { startServer } from './server';
import { startHfServer, type HfServer } from './hf-server';
import { CHROME_DIR, FIREFOX_DIR, FIREFOX_ID, POPUP, requireTestBuild, waitUntil } from './test-build';
import { requireModel } from '../src/engine/registry';

const FIREFOX_UUID = '5b8e2d17-4c3a-4e9f-a1d6-7f0c9b3e2a58';
const OPTIONS = 'src/options/options.html';
const PINNED_ID = 'fixture-download';
const UNVERIFIED_ID = 'fixture-unverified';
const UNVERIFIED_LABEL = 'Fixture (unverified source test)';
const TEXT_MODEL = 'onnx/text_model.onnx';
/** The commit the registry pins for the fixture's files: the only revision the local hub serves. */
const COMMIT = requireModel(PINNED_ID).source!.revision;
/** What a download of the fixture fetches (the same paths for both backends). */
const MODEL_FILES = (() => {
  const { vision, text, tokenizer } = requireModel(UNVERIFIED_ID).files;
  return [vision.wasm, text.wasm, tokenizer].sort();
})();

type PageServer = Awaited<ReturnType<typeof startServer>>;

interface TrustRecord {
  version: number;
  repo: string;
  revision: string;
  files: Record<string, { size: number; sha256: string }>;
}

const row = (id: string) => `[data-testid=model-row][data-id="${id}"]`;

/** The options page with its Models section filled in. */
async function openModels(harness: Harness): Promise<HPage> {
  const options = await harness.openPage(OPTIONS);
  await waitUntil('the Models section', () => options.evaluate((sel) => !!document.querySelector(sel), row(UNVERIFIED_ID)), Boolean);
  return options;
}

async function sourceLine(options: HPage, id: string): Promise<{ text: string; pinned: string }> {
  return options.evaluate((sel) => {
    const source = document.querySelector<HTMLElement>(`${sel} [data-testid=model-source]`)!;
    return { text: source.textContent ?? '', pinned: source.dataset.pinned ?? '' };
  }, row(id));
}

/** "Download models from" on the options page, saved with the form as a user would. */
async function downloadFrom(options: HPage, origin: string): Promise<void> {
  await options.fill('#base-url', origin);
  await options.click('#settings button[type=submit]');
  await waitUntil(
    'the download origin saved',
    () =>
      options.evaluate(async () => {
        const g = globalThis as unknown as { browser?: any; chrome?: any };
        const { settings } = await (g.browser ?? g.chrome).storage.local.get('settings');
        return (settings as { modelBaseUrl?: string } | undefined)?.modelBaseUrl ?? '';
      }),
    (url) => url === origin,
  );
}

/**
 * From an extension page: the model's trust-on-first-use record in Cache Storage, after deleting
 * its stored copy of `remove` (a repo path), if given. Also says how many entries were deleted.
 */
async function trustRecord(harness: Harness, remove = ''): Promise<{ record: TrustRecord | null; removed: number }> {
  const options = await harness.openPage(OPTIONS);
  const found = await options.evaluate(
    async ([id, path]) => {
      const cache = await caches.open('mobileclip-models');
      const keys = (await cache.keys()).map((r) => r.url).filter((u) => decodeURIComponent(new URL(u).pathname).startsWith(`/${id}@`));
      const named = (file: string) => keys.filter((u) => decodeURIComponent(new URL(u).pathname).endsWith(`/${file}`));
      let removed = 0;
      if (path) for (const url of named(path)) if (await cache.delete(url)) removed++;
      const [record] = named('trusted-on-first-use.json');
      return { record: record ? await (await cache.match(record))!.json() : null, removed };
    },
    [UNVERIFIED_ID, remove] as const,
  );
  await options.close();
  return found;
}

function trustTests(name: string, launch: () => Promise<Harness>, restartBackground: (harness: Harness) => Promise<void>): void {
  describe(name, () => {
    let harness: Harness;
    let pages: PageServer;
    let hf: HfServer;

    beforeAll(async () => {
      pages = await startServer();
      hf = await startHfServer(resolve('models/fixture'), 'local/fixture', COMMIT);
      harness = await launch();
    });
    afterAll(async () => {
      await harness?.close();
      await hf?.close();
      await pages?.close();
    });

    it('the Models section says which models are verified, with the commit, and which are trusted on first use', async () => {
      const options = await openModels(harness);
      expect(await sourceLine(options, PINNED_ID)).toEqual({
        text: `Verified source: every file is checked against the hashes published for commit ${COMMIT.slice(0, 7)} of local/fixture.`,
        pinned: 'true',
      });
      expect(await sourceLine(options, UNVERIFIED_ID)).toEqual({
        text: 'Unverified source: no published hashes for these files. The first download is trusted; every later download must match it, so a file changed upstream is refused.',
        pinned: 'false',
      });
      await options.close();
    });

    it('choosing an unverified model records the commit `main` points to and the hashes of every file downloaded from it', async () => {
      const options = await openModels(harness);
      await downloadFrom(options, hf.origin);
      const before = hf.requests.length;
      await options.click(`${row(UNVERIFIED_ID)} [data-testid=model-use]`);
      expect(await options.text(`${row(UNVERIFIED_ID)} [data-testid=model-confirm]`)).toBe(`Download ${UNVERIFIED_LABEL} (7.7 MB) to run on this device?`);
      expect(hf.requests.length).toBe(before); // nothing before the yes
      await options.click(`${row(UNVERIFIED_ID)} [data-testid=model-confirm-download]`);
      const chosen = await waitUntil(
        'the unverified model stored and in use',
        () => options.evaluate((sel) => {
          const r = document.querySelector<HTMLElement>(sel)!;
          return { state: r.dataset.state, inUse: r.dataset.inUse, notice: document.querySelector('[data-testid=models-notice]')?.textContent ?? '' };
        }, row(UNVERIFIED_ID)),
        (r) => (r.state === 'stored' && r.inUse === 'true') || r.notice !== '',
      );
      expect(chosen).toEqual({ state: 'stored', inUse: 'true', notice: '' });
      await options.close();

      // First use: the host said which commit `main` is, before any file; every file came from that commit.
      const first = hf.requests.slice(before);
      expect(first.filter((r) => r.kind === 'revision').map((r) => r.url)).toEqual(['/api/models/local/fixture/revision/main']);
      expect(first.findIndex((r) => r.kind === 'revision')).toBeLessThan(first.findIndex((r) => r.kind === 'tree' || r.kind === 'resolve'));
      const files = first.filter((r) => r.kind === 'resolve');
      expect(files.every((r) => r.url.startsWith(`/local/fixture/resolve/${COMMIT}/`) && r.status === 200 && r.outcome === 'complete')).toBe(true);
      expect([...new Set(files.map((r) => r.file))].sort()).toEqual(MODEL_FILES);
      expect(first.filter((r) => r.kind === 'tree').every((r) => r.url.startsWith(`/api/models/local/fixture/tree/${COMMIT}`))).toBe(true);

      // The record holds that commit and, for each of those files, the size and hash the server sent.
      const { record } = await trustRecord(harness);
      expect(record).toMatchObject({ version: 1, repo: 'local/fixture', revision: COMMIT });
      expect(Object.keys(record!.files).sort()).toEqual(MODEL_FILES);
      for (const path of MODEL_FILES) {
        const served = hf.files.find((f) => f.path === path)!;
        expect(record!.files[path]).toEqual({ size: served.size, sha256: served.sha256 });
      }
      console.log(`${name}: trusted on first use: ${record!.repo}@${record!.revision}, ${MODEL_FILES.join(', ')}`);
    });

    it('after the text model changed upstream and its stored copy is gone, a restarted background refuses the download from the recorded commit', async () => {
      hf.configure({ corrupt: [TEXT_MODEL] });
      const served = hf.files.find((f) => f.path === TEXT_MODEL)!;
      // Evicted, as the browser may do with Cache Storage: the next start must download it again.
      expect((await trustRecord(harness, TEXT_MODEL)).removed).toBe(1);
      await restartBackground(harness);
      const again = hf.requests.length;

      const page = await harness.openPage(`${pages.origin}/colors.html`);
      const popup = await harness.openPage(popupPath(await harness.tabIdOf(page), POPUP));
      // The new background does not know the earlier yes: it asks before downloading the missing file.
      const asked = await waitUntil('the download question', () => modelMessage(popup), (m) => !m.hidden && m.phase === 'confirm' && m.buttons.includes('model-download'));
      expect(asked.text).toBe(`Download ${UNVERIFIED_LABEL} (7.7 MB) to run on this device?`);
      expect(hf.requests.length).toBe(again);
      await popup.click('[data-testid=model-message] [data-testid=model-download]');

      const shown = await waitUntil('the changed-upstream error', () => modelMessage(popup), (m) => !m.hidden && m.error && m.detail.includes(TEXT_MODEL));
      expect(shown.text).toMatch(/Retry downloads the file again\.$/);
      expect(shown.detailOpen).toBe(false);
      expect(shown.detail).toMatch(new RegExp(`model file changed upstream: onnx/text_model\\.onnx has SHA-256 (?!${served.sha256})[0-9a-f]{64}, expected ${served.sha256}`));
      expect(shown.detail).toContain(`the hashes recorded when local/fixture@${COMMIT} was first downloaded`);
      expect(shown.retry).toBe(true);
      console.log(`${name} popup, unverified model changed upstream after first use: ${shown.text} | detail: ${shown.detail}`);

      // The recorded commit, without asking where `main` points now; the intact files were not fetched again.
      const later = hf.requests.slice(again);
      expect(later.some((r) => r.kind === 'revision')).toBe(false);
      const text = later.filter((r) => r.file === TEXT_MODEL);
      expect(text.length).toBeGreaterThan(0);
      expect(text.every((r) => r.url === `/local/fixture/resolve/${COMMIT}/${TEXT_MODEL}`)).toBe(true);
      expect(later.filter((r) => r.kind === 'tree').every((r) => r.url.startsWith(`/api/models/local/fixture/tree/${COMMIT}`))).toBe(true);
      expect(later.some((r) => r.kind === 'resolve' && r.file !== TEXT_MODEL)).toBe(false);
      // The refused file changed nothing that was trusted.
      const { record } = await trustRecord(harness);
      expect(record!.files[TEXT_MODEL]).toEqual({ size: served.size, sha256: served.sha256 });
      await popup.close();
      await page.close();
    });
  });
}

requireTestBuild();

trustTests('Chromium', () => launchChromium(CHROME_DIR), restartChromiumWorker);
trustTests(
  'Firefox ESR',
  () => launchFirefox(FIREFOX_DIR, { addonId: FIREFOX_ID, uuid: FIREFOX_UUID, controlPath: OPTIONS }),
  restartFirefoxBackground,
);
