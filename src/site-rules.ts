// Which sites may be indexed: the person's excluded sites, the "only these sites" mode, and the
// pause switch. One rule for every context: the background's indexer asks it before fetching a
// page's images, the popup asks it to say why nothing is indexed, the options page to edit lists.
// A site is a hostname; a listed site covers its subdomains (example.com covers www.example.com).
// The history keeps its own list (settings.historyExcludedSites, checked with onSiteList too): "never
// record" and "never index" are different wishes (searching a webmail's pictures while there, but
// not keeping them), and a site never indexed is never recorded either, having nothing to record.
import { siteOf } from './store/pages';
import { t } from './i18n';

export const MAX_SITES = 1000;

/** Whether to index every site (minus the excluded ones) or only the listed ones. */
export type SiteMode = 'all' | 'only';

export interface SiteRules {
  indexingPaused: boolean;
  siteMode: SiteMode;
  excludedSites: readonly string[];
  onlySites: readonly string[];
}

/** Why a page's images are not indexed: paused, its site excluded, or not in the "only" list. */
export interface IndexingOff {
  reason: 'paused' | 'excluded' | 'not-listed';
  /** The page's hostname ('' when the address has none). */
  site: string;
}

/** The entry of `sites` that covers the page's hostname (itself or a parent domain), if any. */
export function listedSite(pageUrl: string, sites: readonly string[]): string | undefined {
  const host = siteOf(pageUrl);
  if (!host) return undefined;
  return sites.find((site) => covers(site, host));
}

const covers = (site: string, host: string) => host === site || host.endsWith(`.${site}`);

/** Whether the page's hostname is on `sites` (or a subdomain of one). */
export function onSiteList(pageUrl: string, sites: readonly string[]): boolean {
  return listedSite(pageUrl, sites) !== undefined;
}

/** Why the page may not be indexed now; null when it may. Pausing wins: it says why nothing moves. */
export function indexingOff(pageUrl: string, rules: SiteRules): IndexingOff | null {
  const site = siteOf(pageUrl);
  if (rules.indexingPaused) return { reason: 'paused', site };
  if (onSiteList(pageUrl, rules.excludedSites)) return { reason: 'excluded', site };
  // Pages without a hostname (data:, file:) cannot be listed: the "only" mode leaves them out too.
  if (rules.siteMode === 'only' && !onSiteList(pageUrl, rules.onlySites)) return { reason: 'not-listed', site };
  return null;
}

/**
 * Sites as people type or paste them ("https://www.Example.com/path", " example.com ", "*.example.com")
 * → lower-case hostnames, each once, at most MAX_SITES. Anything that is not a hostname is dropped.
 */
export function normalizeSites(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  const sites = new Set<string>();
  for (const entry of raw) {
    if (typeof entry !== 'string') continue;
    const site = hostnameOf(entry.trim().toLowerCase());
    if (site && /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(site)) sites.add(site);
    if (sites.size === MAX_SITES) break;
  }
  return [...sites];
}

function hostnameOf(text: string): string {
  const withoutWildcard = text.replace(/^\*\./, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(withoutWildcard)) return siteOf(withoutWildcard);
  return withoutWildcard.split(/[/?#:]/)[0].replace(/\.$/, '');
}

/** The list without `site` and every entry that covers it (so the page's site is no longer excluded). */
export function withoutSite(sites: readonly string[], pageUrl: string): string[] {
  const host = siteOf(pageUrl);
  return sites.filter((site) => !covers(site, host));
}

/** The sentence for people: "Indexing is off for example.com (excluded in settings)." */
export function indexingOffText(off: IndexingOff): string {
  const site = off.site || t('siteRulesThisPage');
  if (off.reason === 'paused') return t('siteRulesPaused');
  return off.reason === 'excluded' ? t('siteRulesExcluded', site) : t('siteRulesNotListed', site);
}
