import { describe, expect, it } from 'vitest';
import { indexingOff, indexingOffText, listedSite, normalizeSites, withoutSite, type SiteRules } from './site-rules';

const rules = (patch: Partial<SiteRules> = {}): SiteRules => ({ indexingPaused: false, siteMode: 'all', excludedSites: [], onlySites: [], ...patch });

describe('site rules', () => {
  it('a listed site covers itself and its subdomains, not look-alikes', () => {
    expect(listedSite('https://www.example.com/a', ['example.com'])).toBe('example.com');
    expect(listedSite('https://example.com:8080/', ['example.com'])).toBe('example.com');
    expect(listedSite('https://notexample.com/', ['example.com'])).toBeUndefined();
    expect(listedSite('https://example.com.evil.test/', ['example.com'])).toBeUndefined();
    expect(listedSite('data:text/html,x', ['example.com'])).toBeUndefined();
  });

  it('excluded sites are off in both modes; the only mode lets in nothing else', () => {
    expect(indexingOff('https://a.test/', rules())).toBeNull();
    expect(indexingOff('https://img.a.test/', rules({ excludedSites: ['a.test'] }))).toEqual({ reason: 'excluded', site: 'img.a.test' });
    const only = rules({ siteMode: 'only', onlySites: ['b.test'], excludedSites: ['x.b.test'] });
    expect(indexingOff('https://b.test/', only)).toBeNull();
    expect(indexingOff('https://a.test/', only)).toEqual({ reason: 'not-listed', site: 'a.test' });
    expect(indexingOff('https://x.b.test/', only)).toEqual({ reason: 'excluded', site: 'x.b.test' });
    // An only list left empty lets nothing in; pages without a hostname cannot be listed.
    expect(indexingOff('https://b.test/', rules({ siteMode: 'only' }))?.reason).toBe('not-listed');
    expect(indexingOff('file:///tmp/a.html', only)).toEqual({ reason: 'not-listed', site: '' });
    // The only list matters only in its mode.
    expect(indexingOff('https://a.test/', rules({ onlySites: ['b.test'] }))).toBeNull();
  });

  it('pausing stops every site, and says so before any site rule', () => {
    expect(indexingOff('https://a.test/', rules({ indexingPaused: true, excludedSites: ['a.test'] }))?.reason).toBe('paused');
  });

  it('the sentence names the site and why', () => {
    expect(indexingOffText({ reason: 'excluded', site: 'example.com' })).toBe('Indexing is off for example.com (excluded in settings).');
    expect(indexingOffText({ reason: 'not-listed', site: '' })).toContain('this page');
    expect(indexingOffText({ reason: 'paused', site: 'a.test' })).toMatch(/^Paused/);
  });

  it('sites as typed or pasted become hostnames, each once', () => {
    expect(normalizeSites([' Example.COM ', 'https://www.example.com/path?q', '*.cdn.test', 'example.com', 'a.test:8080/x', 'not a site', '', 'ok.test.', 42, 'http://[::1]/'])).toEqual([
      'example.com',
      'www.example.com',
      'cdn.test',
      'a.test',
      'ok.test',
    ]);
    expect(normalizeSites('example.com')).toEqual([]);
    expect(normalizeSites(Array.from({ length: 1200 }, (_, i) => `s${i}.test`))).toHaveLength(1000);
  });

  it('letting a page in removes every entry that covers it, and only those', () => {
    expect(withoutSite(['example.com', 'www.example.com', 'other.test', 'img.www.example.com'], 'https://www.example.com/')).toEqual(['other.test', 'img.www.example.com']);
  });
});
