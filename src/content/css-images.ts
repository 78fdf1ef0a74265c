// Reads image URLs out of computed CSS values: `background-image` (several layers, url(),
// image-set()) and `content` (url() on ::before/::after). Computed values already hold absolute
// URLs; gradients and other generated images are not pictures and are skipped.
import { chooseCandidate, type Candidate } from './srcset';

/** Splits on commas that are not inside parentheses or quotes. */
export function splitTopLevel(value: string, separator = ','): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === separator && depth === 0) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter(Boolean);
}

/** The string of a CSS string token ("..." or '...'), with escapes resolved. */
function unquote(token: string): string {
  const quote = token[0];
  let out = '';
  for (let i = 1; i < token.length; i++) {
    const c = token[i];
    if (c === quote) break;
    if (c === '\\' && i + 1 < token.length) {
      const hex = /^[0-9a-f]{1,6}\s?/i.exec(token.slice(i + 1));
      if (hex) {
        out += String.fromCodePoint(parseInt(hex[0], 16));
        i += hex[0].length;
      } else {
        out += token[++i];
      }
    } else out += c;
  }
  return out;
}

/** `url("x")`, `url(x)` or a bare string (allowed inside image-set) → the URL; else null. */
function urlOf(token: string): string | null {
  const t = token.trim();
  if (t.startsWith('"') || t.startsWith("'")) return unquote(t);
  const match = /^url\(\s*([\s\S]*?)\s*\)$/i.exec(t);
  if (!match) return null;
  const inner = match[1];
  return inner.startsWith('"') || inner.startsWith("'") ? unquote(inner) : inner;
}

function resolutionOf(text: string): number {
  const match = /(\d*\.?\d+)(x|dppx|dpi|dpcm)\b/i.exec(text);
  if (!match) return 1;
  const value = Number(match[1]);
  switch (match[2].toLowerCase()) {
    case 'dpi':
      return value / 96;
    case 'dpcm':
      return (value * 2.54) / 96;
    default:
      return value;
  }
}

/** Formats browsers decode: an image-set option naming another type would be skipped by them too. */
const DECODABLE = /^image\/(png|jpeg|jpg|gif|webp|avif|svg\+xml|bmp|x-icon|vnd\.microsoft\.icon)$/i;

function imageSetUrl(args: string, devicePixelRatio: number): string | null {
  const candidates: Candidate[] = [];
  for (const option of splitTopLevel(args)) {
    const type = /type\(\s*(["'])(.*?)\1\s*\)/i.exec(option);
    if (type && !DECODABLE.test(type[2])) continue;
    // The image is the first token: url(...) or a string; the rest are resolution and type().
    const first = /^(url\([^)]*\)|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/i.exec(option.trim());
    const url = first ? urlOf(first[1]) : null;
    if (!url) continue;
    candidates.push({ url, density: resolutionOf(option.slice(first![1].length)) });
  }
  return chooseCandidate(candidates, devicePixelRatio);
}

/**
 * Every image URL in a computed `background-image` or `content` value, top layer first.
 * Relative URLs (possible in `content` on some engines) are resolved against `base`.
 */
export function cssImageUrls(value: string, base: string, devicePixelRatio: number): string[] {
  if (!value || value === 'none' || value === 'normal' || !/url\(|image-set\(/i.test(value)) return [];
  const urls: string[] = [];
  // `content` separates its items with spaces, background-image its layers with commas.
  for (const layer of splitTopLevel(value).flatMap((l) => splitTopLevel(l, ' '))) {
    const lower = layer.toLowerCase();
    let url: string | null = null;
    if (lower.startsWith('url(')) url = urlOf(layer);
    else if (lower.startsWith('image-set(') || lower.startsWith('-webkit-image-set(')) {
      url = imageSetUrl(layer.slice(layer.indexOf('(') + 1, layer.lastIndexOf(')')), devicePixelRatio);
    }
    if (!url) continue;
    try {
      urls.push(new URL(url, base).href);
    } catch {
      // Not a URL: nothing a person sees.
    }
  }
  return urls;
}
