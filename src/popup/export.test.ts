import { describe, expect, it } from 'vitest';
import type { SearchResult } from '../messages';
import { csvField, exportFileName, resultsToCsv, resultsToJson } from './export';

const result = (over: Partial<SearchResult>): SearchResult => ({
  url: 'https://a.test/red.png',
  score: 0.30812,
  relevance: 1,
  rank: 1,
  alt: 'A red square',
  width: 160,
  height: 120.4,
  match: true,
  ...over,
});

describe('export', () => {
  it('writes one CSV row per result with the page address, quoting and defusing page text', () => {
    const csv = resultsToCsv(
      [result({}), result({ rank: 2, url: 'https://a.test/b.png', score: -0.0001, relevance: 0, match: false, alt: '=HYPERLINK("x"), "quoted"' })],
      'https://a.test/page',
    );
    expect(csv.split('\r\n')).toEqual([
      'rank,url,score,relevance,match,alt,width,height,page_url',
      '1,https://a.test/red.png,0.308120,1.000,true,A red square,160,120,https://a.test/page',
      `2,https://a.test/b.png,-0.000100,0.000,false,"'=HYPERLINK(""x""), ""quoted""",160,120,https://a.test/page`,
      '',
    ]);
    expect(csvField('-1', true)).toBe("'-1");
    expect(csvField(-1)).toBe('-1');
  });

  it('writes JSON with the query and every result', () => {
    const json = JSON.parse(resultsToJson({ results: [result({})], pageUrl: 'https://a.test/', query: 'red', similarTo: null }, new Date('2025-01-31T10:00:00Z')));
    expect(json).toEqual({
      pageUrl: 'https://a.test/',
      query: 'red',
      similarTo: null,
      exportedAt: '2025-01-31T10:00:00.000Z',
      results: [{ rank: 1, url: 'https://a.test/red.png', score: 0.30812, relevance: 1, match: true, alt: 'A red square', width: 160, height: 120 }],
    });
  });

  it('names the file after the page and the day', () => {
    expect(exportFileName('https://www.example.com/x', 'csv', new Date('2025-01-31T23:00:00Z'))).toBe('lens-results-www.example.com-2025-01-31.csv');
    expect(exportFileName('', 'json', new Date('2025-01-31T23:00:00Z'))).toBe('lens-results-page-2025-01-31.json');
  });
});
