// Picks the candidate a browser would load from a srcset (or a CSS image-set()), for images the
// browser has not chosen yet: lazy images not loaded, or lazy-loader `data-srcset` attributes.
// Once the browser has loaded an <img>, its currentSrc is the truth and this is not used.

export interface Candidate {
  url: string;
  /** Pixel density the candidate provides at the given slot width (1 when unknown). */
  density: number;
}

/**
 * Parses "url [descriptor], url [descriptor]" (descriptors: 1.5x, 640w; none = 1x).
 * URLs may contain commas (e.g. CDN transforms "w_400,h_300"): a comma only ends a candidate
 * when followed by whitespace or when the URL is done, as in the HTML parsing algorithm.
 */
export function parseSrcset(srcset: string, slotWidth: number): Candidate[] {
  const out: Candidate[] = [];
  let i = 0;
  const n = srcset.length;
  while (i < n) {
    while (i < n && /[\s,]/.test(srcset[i])) i++;
    if (i >= n) break;
    let end = i;
    while (end < n && !/\s/.test(srcset[end])) end++;
    let url = srcset.slice(i, end);
    i = end;
    let descriptor = '';
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      let close = i;
      while (close < n && srcset[close] !== ',') close++;
      descriptor = srcset.slice(i, close).trim();
      i = close + 1;
    }
    if (!url) continue;
    out.push({ url, density: densityOf(descriptor, slotWidth) });
  }
  return out;
}

function densityOf(descriptor: string, slotWidth: number): number {
  const match = /^(\d*\.?\d+(?:e[+-]?\d+)?)([wxh])$/i.exec(descriptor.split(/\s+/)[0] ?? '');
  if (!match) return 1;
  const value = Number(match[1]);
  if (match[2].toLowerCase() === 'w') return slotWidth > 0 ? value / slotWidth : value / 1000;
  if (match[2].toLowerCase() === 'x') return value;
  return 1; // 'h' descriptors are not used for selection by browsers
}

/** The smallest candidate dense enough for the screen, else the densest: what browsers pick. */
export function chooseCandidate(candidates: readonly Candidate[], devicePixelRatio: number): string | null {
  if (candidates.length === 0) return null;
  const sorted = [...candidates].sort((a, b) => a.density - b.density);
  return (sorted.find((c) => c.density >= devicePixelRatio) ?? sorted[sorted.length - 1]).url;
}
