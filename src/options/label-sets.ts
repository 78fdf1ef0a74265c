// Options page: label sets for Classify. Choose the active set, create and edit named sets with
// their own templates, delete them, export them as text or JSON and import them back (a file,
// or text pasted into the import box). Built-in sets are shown read-only.
import { getModel, DEFAULT_MODEL_ID } from '../engine/registry';
import { labelSetsToJson, labelSetToText, newUserSetId, parseLabelSetFile, sanitizeLabelSet, type LabelSet } from '../engine/label-sets';
import { allLabelSets, findLabelSet, loadLabelSetChoice, MAX_USER_SETS, saveLabelSetChoice, type LabelSetChoice } from '../label-set-store';
import { sendRequest } from '../send-request';
import { describe } from '../errors';
import { parseLabels } from './label-limits';
import { saveTextFile } from '../popup/export';
import { labelProgressText, labelSetName } from '../popup/classify-all';
import { formatNumber, t } from '../i18n';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const PROGRESS_POLL_MS = 1_000;

export async function attachLabelSets(modelId: () => string): Promise<void> {
  const active = $<HTMLSelectElement>('label-set-active');
  const name = $<HTMLInputElement>('set-name');
  const templates = $<HTMLTextAreaElement>('set-templates');
  const labels = $<HTMLTextAreaElement>('set-labels');
  const message = $('set-message');
  const spec = () => getModel(modelId()) ?? getModel(DEFAULT_MODEL_ID)!;
  let choice: LabelSetChoice = await loadLabelSetChoice();

  const say = (text: string) => (message.textContent = text);
  const current = (): LabelSet => findLabelSet(spec(), choice, active.value);
  const show = () => {
    active.replaceChildren(...allLabelSets(spec(), choice).map((s) => new Option(s.builtIn ? t('optSetBuiltIn', labelSetName(s)) : s.name, s.id)));
    active.value = findLabelSet(spec(), choice).id;
    fill();
  };
  const fill = () => {
    const set = current();
    name.value = set.name;
    templates.value = set.templates.join('\n');
    labels.value = set.labels.join('\n');
    for (const field of [name, templates, labels]) field.readOnly = set.builtIn;
    $<HTMLButtonElement>('set-save').disabled = set.builtIn;
    $<HTMLButtonElement>('set-delete').disabled = set.builtIn;
    $('set-count').textContent = t('optSetCount', formatNumber(set.labels.length), formatNumber(set.templates.length), formatNumber(set.labels.length * set.templates.length));
  };
  const store = async (next: LabelSetChoice, text: string) => {
    choice = await saveLabelSetChoice(next);
    show();
    say(text);
    // Embed the active set now, in the background: its first use is then quick.
    sendRequest({ type: 'prepare-labels', setId: choice.active }).catch(() => undefined);
  };
  const addSets = async (sets: LabelSet[], done: (names: string) => string) => {
    if (sets.length === 0) return say(t('optSetNoneFound'));
    if (choice.user.length + sets.length > MAX_USER_SETS) return say(t('optSetTooMany', formatNumber(MAX_USER_SETS)));
    await store({ active: sets[0].id, user: [...choice.user, ...sets] }, done(sets.map((s) => t('optQuoted', s.name)).join(', ')));
  };
  const imported = (names: string) => t('optSetImported', names);

  active.addEventListener('change', () => void store({ ...choice, active: active.value }, t('optSetActive', current().name)));
  $('set-new').addEventListener('click', () => void addSets([sanitizeLabelSet({ id: newUserSetId(), name: t('optSetNewName'), labels: t('optSetNewLabels').split(',') })!], (names) => t('optSetCreated', names)));
  $('set-save').addEventListener('click', () => {
    // The same bounds the background's validator applies, said in words instead of dropped.
    const { problem } = parseLabels(labels.value);
    if (problem) return say(t('optSetNotSaved', problem));
    const edited = sanitizeLabelSet({ id: current().id, name: name.value, templates: templates.value.split('\n'), labels: labels.value.split('\n') });
    if (!edited) return say(t('optSetNeedsLabels'));
    void store({ ...choice, user: choice.user.map((s) => (s.id === edited.id ? edited : s)) }, t('optSetSaved', edited.name));
  });
  $('set-delete').addEventListener('click', () => {
    const gone = current();
    void store({ active: choice.active === gone.id ? 'everyday' : choice.active, user: choice.user.filter((s) => s.id !== gone.id) }, t('optSetDeleted', gone.name));
  });
  $('set-export-text').addEventListener('click', () => saveTextFile(`${fileName(current().name)}.txt`, labelSetToText(current()), 'text/plain'));
  $('set-export-json').addEventListener('click', () => saveTextFile('label-sets.json', labelSetsToJson(choice.user), 'application/json'));
  $('set-import').addEventListener('click', () => {
    try {
      void addSets(parseLabelSetFile($<HTMLTextAreaElement>('set-import-text').value, t('optSetImportedName')), imported);
    } catch (error) {
      say(t('optSetImportFailed', describe(error)));
    }
  });
  $<HTMLInputElement>('set-import-file').addEventListener('change', async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      await addSets(parseLabelSetFile(await file.text(), file.name.replace(/\.\w+$/, '')), imported);
    } catch (error) {
      say(t('optSetImportFileFailed', file.name, describe(error)));
    }
  });
  show();
  watchProgress();
}

function fileName(name: string): string {
  return name.replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '') || 'labels';
}

/** "Embedding labels 340 / 7,000" while the background embeds a set. */
function watchProgress(): void {
  const line = $('label-progress');
  setInterval(async () => {
    const { jobs } = await sendRequest({ type: 'label-progress' }).catch(() => ({ jobs: [] }));
    line.hidden = jobs.length === 0;
    line.textContent = jobs.map((j) => t('optLabelProgress', labelProgressText(j.done, j.total), j.name)).join(' · ');
  }, PROGRESS_POLL_MS);
}
