// Exports of the ranked results (CSV for spreadsheets, JSON for scripts), saved as a file from the
// popup itself: an object URL on an <a download> needs no "downloads" permission.
import type { SearchResult, TabView } from '../messages';

export const EXPORT_COLUMNS = ['rank', 'url', 'score', 'relevance', 'match', 'alt', 'width', 'height', 'page_url'] as const;

/**
 * One CSV field (RFC 4180 quoting). Text from the page (alt, addresses) starting with = + - @
 * (or tab/CR) would run as a formula in spreadsheet apps, so it gets a leading apostrophe.
 */
export function csvField(value: string | number | boolean, fromPage = false): string {
  let s = String(value);
  if (fromPage && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function resultsToCsv(results: readonly SearchResult[], pageUrl: string): string {
  const rows = results.map((r) =>
    [
      csvField(r.rank),
      csvField(r.url, true),
      csvField(r.score.toFixed(6)),
      csvField(r.relevance.toFixed(3)),
      csvField(r.match),
      csvField(r.alt, true),
      csvField(Math.round(r.width)),
      csvField(Math.round(r.height)),
      csvField(pageUrl, true),
    ].join(','),
  );
  return [EXPORT_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

export function resultsToJson(view: Pick<TabView, 'results' | 'pageUrl' | 'query' | 'similarTo'>, exportedAt: Date): string {
  return JSON.stringify(
    {
      pageUrl: view.pageUrl,
      query: view.query,
      similarTo: view.similarTo,
      exportedAt: exportedAt.toISOString(),
      results: view.results.map((r) => ({
        rank: r.rank,
        url: r.url,
        score: r.score,
        relevance: r.relevance,
        match: r.match,
        alt: r.alt,
        width: Math.round(r.width),
        height: Math.round(r.height),
      })),
    },
    null,
    2,
  );
}

/** "lens-results-example.com-2025-01-31.csv": which page, which day. */
export function exportFileName(pageUrl: string, extension: 'csv' | 'json', now: Date): string {
  let host = 'page';
  try {
    host = new URL(pageUrl).hostname.replace(/[^a-z0-9.-]/gi, '_') || host;
  } catch {
    // not a URL (empty before the page reported): keep the generic name
  }
  return `lens-results-${host}-${now.toISOString().slice(0, 10)}.${extension}`;
}

/** Saves text as a file through the browser's normal download of an <a download> link. */
export function saveTextFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has read the blob by the next tasks; a popup that closes frees it anyway.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
