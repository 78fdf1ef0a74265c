// Every user-visible string goes through here: `browser.i18n` (the same synchronous
// `getMessage` in Chrome and Firefox, in every context including content scripts) over the
// message files in src/locales/<lang>/<area>.json, which the build merges into `_locales/`.
//
//   t('searchPlaceholder')                       → "Search this page's images"
//   t('indexedOf', formatNumber(3), formatNumber(9))  → "3 of 9 indexed"   ($1, $2 in the message)
//   tn('imageCount', n, formatNumber(n))         → "1 image" / "5 images"  (keys imageCount_one, imageCount_other)
//   <button data-i18n="save"></button> + localizeDocument()
//
// Keys are checked at compile time: MessageKey is the union of the English files' keys.
import type { Messages } from './locales/keys';

export type MessageKey = keyof Messages & string;
/** Keys that exist as `${base}_one` and `${base}_other`. */
export type PluralKey = { [K in MessageKey]: K extends `${infer B}_other` ? (`${B}_one` extends MessageKey ? B : never) : never }[MessageKey];

type GetMessage = (key: string, substitutions?: string[]) => string;

interface I18nApi {
  getMessage: GetMessage;
  getUILanguage(): string;
}

function browserI18n(): I18nApi | undefined {
  const g = globalThis as { browser?: { i18n?: I18nApi }; chrome?: { i18n?: I18nApi } };
  return g.browser?.i18n ?? g.chrome?.i18n;
}

let source: I18nApi | undefined;

/** Node tests and the CLI have no `browser.i18n`: they install the message files (src/locales/node-source.ts). */
export function setMessageSource(api: I18nApi | undefined): void {
  source = api;
  language = undefined;
  pluralRules = undefined;
  numberFormats.clear();
}

function api(): I18nApi {
  const found = source ?? browserI18n();
  if (!found) throw new Error('i18n: no message source (not in an extension context and none installed)');
  return found;
}

/**
 * The message for `key` with `$1`… filled in. A key missing from the built `_locales` shows as
 * the key itself, so a slip is visible in the UI rather than an empty control.
 */
export function t(key: MessageKey, ...substitutions: (string | number)[]): string {
  const text = api().getMessage(key, substitutions.map(String));
  return text === '' ? key : text;
}

let pluralRules: Intl.PluralRules | undefined;

/** The `_one` / `_other` (… as the UI language's plural rules say) form of `base` for `count`. */
export function tn(base: PluralKey, count: number, ...substitutions: (string | number)[]): string {
  pluralRules ??= new Intl.PluralRules(uiLanguage());
  const form = pluralRules.select(count);
  const key = `${base}_${form}`;
  const text = api().getMessage(key, substitutions.map(String));
  return text !== '' ? text : t(`${base}_other` as MessageKey, ...substitutions);
}

let language: string | undefined;

/** The language of the messages in use ("en", "de", …): fixed for the life of a page. */
export function uiLanguage(): string {
  // Each translation names itself: '@@ui_locale' and getUILanguage() can name the browser's
  // default locale while the messages come from another (Chromium started with --lang).
  return (language ??= api().getMessage('localeCode') || 'en');
}

/** Formats of the UI language, by their options ('' for the default one). */
const numberFormats = new Map<string, Intl.NumberFormat>();

/** A number as the UI language writes it ("1,386" / "1.386"). */
export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  const id = options ? JSON.stringify(options) : '';
  let format = numberFormats.get(id);
  if (!format) numberFormats.set(id, (format = new Intl.NumberFormat(uiLanguage(), options)));
  return format.format(n);
}

/** A probability or share (0..1) as the UI language writes a percentage ("87%" / "87 %"). */
export function formatPercent(fraction: number, fractionDigits = 0): string {
  return formatNumber(fraction, { style: 'percent', minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
}

/** Bytes as "12.4 MB" in the UI language (decimal units, as download sizes are usually given). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${formatNumber(value, { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${units[unit]}`;
}

/**
 * Fills the static text of an HTML page: `data-i18n="key"` sets the text, and
 * `data-i18n-attr="placeholder:key; aria-label:key2"` sets attributes. Also sets `<html lang>`.
 */
export function localizeDocument(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset.i18n as MessageKey);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr!.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key as MessageKey));
    }
  }
  if (root === document) document.documentElement.lang = uiLanguage();
}
