// Text clean-up that CLIP's reference tokenizer (OpenAI simple_tokenizer, as used by
// open_clip and MobileCLIP) applies before BPE:
//
//   basic_clean:      ftfy.fix_text(text) → html.unescape(html.unescape(text)) → strip
//   whitespace_clean: re.sub(r'\s+', ' ', text) → strip
//
// Token ids depend on every character that survives this step, so each piece follows the
// Python behaviour, including its quirks (Python's notion of whitespace, html.unescape's
// handling of invalid character references and of entities without a semicolon).
//
// Deliberate gaps, documented rather than hidden:
// - ftfy's mojibake repair (fix_encoding: re-decoding text that was mis-decoded as
//   Latin-1/Windows-125x) is not ported. It is a large heuristic (a "badness" model over
//   Unicode character classes) that only changes text that is already garbled; search
//   queries and alt text typed by people do not need it. Its C1-control step is kept.
// - The named-entity table holds the HTML 4 set (252 names; every entity that occurs in
//   ordinary prose: Latin-1, Greek, typography, arrows, maths), plus &apos; and the
//   upper-case aliases HTML5 defines for them (&AMP; &LT; ...), not all 2231 HTML5 names
//   (&HilbertSpace;, &checkmark;, ...), which would add ~35 kB to every bundle that
//   tokenizes. An unknown name is left untouched, exactly as html.unescape does with
//   names it does not know. Values follow HTML5 (&lang; is U+27E8, not HTML 4's U+2329).

/** Python's str.isspace() set, which `\s` means in Python 3 `re` for str patterns. It
 *  differs from JavaScript's `\s`: it includes U+001C..U+001F and U+0085, and it does not
 *  include U+FEFF. Written as the body of a character class. */
export const PYTHON_WHITESPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const WHITESPACE_RUN = new RegExp(`[${PYTHON_WHITESPACE}]+`, 'gu');

/** The full reference clean-up, without the lower-casing that the tokenizer applies after it. */
export function cleanClipText(text: string): string {
  const unescaped = htmlUnescape(htmlUnescape(fixText(text)));
  const collapsed = unescaped.replace(WHITESPACE_RUN, ' ');
  const start = collapsed.startsWith(' ') ? 1 : 0;
  const end = collapsed.endsWith(' ') && collapsed.length > start ? collapsed.length - 1 : collapsed.length;
  return collapsed.slice(start, end);
}

// ---------------------------------------------------------------------------------------
// HTML entities

/** Named character references: name (without '&' and ';') → code point. */
const NAMED_ENTITIES: ReadonlyMap<string, number> = new Map(
  Object.entries({
    QUOT: 0x22, quot: 0x22, AMP: 0x26, amp: 0x26, apos: 0x27, LT: 0x3c, lt: 0x3c, GT: 0x3e, gt: 0x3e,
    nbsp: 0xa0, iexcl: 0xa1, cent: 0xa2, pound: 0xa3, curren: 0xa4, yen: 0xa5, brvbar: 0xa6,
    sect: 0xa7, uml: 0xa8, COPY: 0xa9, copy: 0xa9, ordf: 0xaa, laquo: 0xab, not: 0xac, shy: 0xad,
    REG: 0xae, reg: 0xae, macr: 0xaf, deg: 0xb0, plusmn: 0xb1, sup2: 0xb2, sup3: 0xb3, acute: 0xb4,
    micro: 0xb5, para: 0xb6, middot: 0xb7, cedil: 0xb8, sup1: 0xb9, ordm: 0xba, raquo: 0xbb,
    frac14: 0xbc, frac12: 0xbd, frac34: 0xbe, iquest: 0xbf, Agrave: 0xc0, Aacute: 0xc1, Acirc: 0xc2,
    Atilde: 0xc3, Auml: 0xc4, Aring: 0xc5, AElig: 0xc6, Ccedil: 0xc7, Egrave: 0xc8, Eacute: 0xc9,
    Ecirc: 0xca, Euml: 0xcb, Igrave: 0xcc, Iacute: 0xcd, Icirc: 0xce, Iuml: 0xcf, ETH: 0xd0,
    Ntilde: 0xd1, Ograve: 0xd2, Oacute: 0xd3, Ocirc: 0xd4, Otilde: 0xd5, Ouml: 0xd6, times: 0xd7,
    Oslash: 0xd8, Ugrave: 0xd9, Uacute: 0xda, Ucirc: 0xdb, Uuml: 0xdc, Yacute: 0xdd, THORN: 0xde,
    szlig: 0xdf, agrave: 0xe0, aacute: 0xe1, acirc: 0xe2, atilde: 0xe3, auml: 0xe4, aring: 0xe5,
    aelig: 0xe6, ccedil: 0xe7, egrave: 0xe8, eacute: 0xe9, ecirc: 0xea, euml: 0xeb, igrave: 0xec,
    iacute: 0xed, icirc: 0xee, iuml: 0xef, eth: 0xf0, ntilde: 0xf1, ograve: 0xf2, oacute: 0xf3,
    ocirc: 0xf4, otilde: 0xf5, ouml: 0xf6, divide: 0xf7, oslash: 0xf8, ugrave: 0xf9, uacute: 0xfa,
    ucirc: 0xfb, uuml: 0xfc, yacute: 0xfd, thorn: 0xfe, yuml: 0xff, OElig: 0x152, oelig: 0x153,
    Scaron: 0x160, scaron: 0x161, Yuml: 0x178, fnof: 0x192, circ: 0x2c6, tilde: 0x2dc, Alpha: 0x391,
    Beta: 0x392, Gamma: 0x393, Delta: 0x394, Epsilon: 0x395, Zeta: 0x396, Eta: 0x397, Theta: 0x398,
    Iota: 0x399, Kappa: 0x39a, Lambda: 0x39b, Mu: 0x39c, Nu: 0x39d, Xi: 0x39e, Omicron: 0x39f,
    Pi: 0x3a0, Rho: 0x3a1, Sigma: 0x3a3, Tau: 0x3a4, Upsilon: 0x3a5, Phi: 0x3a6, Chi: 0x3a7,
    Psi: 0x3a8, Omega: 0x3a9, alpha: 0x3b1, beta: 0x3b2, gamma: 0x3b3, delta: 0x3b4, epsilon: 0x3b5,
    zeta: 0x3b6, eta: 0x3b7, theta: 0x3b8, iota: 0x3b9, kappa: 0x3ba, lambda: 0x3bb, mu: 0x3bc,
    nu: 0x3bd, xi: 0x3be, omicron: 0x3bf, pi: 0x3c0, rho: 0x3c1, sigmaf: 0x3c2, sigma: 0x3c3,
    tau: 0x3c4, upsilon: 0x3c5, phi: 0x3c6, chi: 0x3c7, psi: 0x3c8, omega: 0x3c9, thetasym: 0x3d1,
    upsih: 0x3d2, piv: 0x3d6, ensp: 0x2002, emsp: 0x2003, thinsp: 0x2009, zwnj: 0x200c, zwj: 0x200d,
    lrm: 0x200e, rlm: 0x200f, ndash: 0x2013, mdash: 0x2014, lsquo: 0x2018, rsquo: 0x2019,
    sbquo: 0x201a, ldquo: 0x201c, rdquo: 0x201d, bdquo: 0x201e, dagger: 0x2020, Dagger: 0x2021,
    bull: 0x2022, hellip: 0x2026, permil: 0x2030, prime: 0x2032, Prime: 0x2033, lsaquo: 0x2039,
    rsaquo: 0x203a, oline: 0x203e, frasl: 0x2044, euro: 0x20ac, image: 0x2111, weierp: 0x2118,
    real: 0x211c, TRADE: 0x2122, trade: 0x2122, alefsym: 0x2135, larr: 0x2190, uarr: 0x2191,
    rarr: 0x2192, darr: 0x2193, harr: 0x2194, crarr: 0x21b5, lArr: 0x21d0, uArr: 0x21d1,
    rArr: 0x21d2, dArr: 0x21d3, hArr: 0x21d4, forall: 0x2200, part: 0x2202, exist: 0x2203,
    empty: 0x2205, nabla: 0x2207, isin: 0x2208, notin: 0x2209, ni: 0x220b, prod: 0x220f, sum: 0x2211,
    minus: 0x2212, lowast: 0x2217, radic: 0x221a, prop: 0x221d, infin: 0x221e, ang: 0x2220,
    and: 0x2227, or: 0x2228, cap: 0x2229, cup: 0x222a, int: 0x222b, there4: 0x2234, sim: 0x223c,
    cong: 0x2245, asymp: 0x2248, ne: 0x2260, equiv: 0x2261, le: 0x2264, ge: 0x2265, sub: 0x2282,
    sup: 0x2283, nsub: 0x2284, sube: 0x2286, supe: 0x2287, oplus: 0x2295, otimes: 0x2297,
    perp: 0x22a5, sdot: 0x22c5, lceil: 0x2308, rceil: 0x2309, lfloor: 0x230a, rfloor: 0x230b,
    loz: 0x25ca, spades: 0x2660, clubs: 0x2663, hearts: 0x2665, diams: 0x2666, lang: 0x27e8,
    rang: 0x27e9,
  }),
);

/** Names HTML5 also recognises without the trailing ';' (&amp, &eacute, ...): exactly the
 *  entities for Latin-1 characters, apart from &apos which HTML 4 did not have. */
const LEGACY_NAMES: ReadonlySet<string> = new Set(
  [...NAMED_ENTITIES].filter(([name, code]) => code <= 0xff && name !== 'apos').map(([name]) => name),
);

/** Lookup with the key shapes of Python's html.entities.html5: 'name;' or legacy 'name'. */
function lookupEntity(key: string): string | undefined {
  const name = key.endsWith(';') ? key.slice(0, -1) : key;
  if (!key.endsWith(';') && !LEGACY_NAMES.has(name)) return undefined;
  const code = NAMED_ENTITIES.get(name);
  return code === undefined ? undefined : String.fromCodePoint(code);
}

/** Windows-1252 readings of U+0080..U+009F; the five bytes cp1252 leaves undefined map to
 *  themselves ("sloppy" cp1252, as both html.unescape and ftfy use it). */
const CP1252_C1 =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

function isInvalidCodePoint(code: number): boolean {
  return (
    (code >= 0x1 && code <= 0x8) ||
    code === 0xb ||
    (code >= 0xe && code <= 0x1f) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0xfdd0 && code <= 0xfdef) ||
    (code & 0xfffe) === 0xfffe // U+xFFFE and U+xFFFF of every plane
  );
}

function numericCharRef(code: number): string {
  if (code === 0) return '\ufffd';
  if (code === 0x0d) return '\r';
  if (code >= 0x80 && code <= 0x9f) return CP1252_C1[code - 0x80];
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\ufffd';
  if (isInvalidCodePoint(code)) return '';
  return String.fromCodePoint(code);
}

const CHAR_REF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Python's html.unescape: numeric references (with the HTML5 fix-ups for invalid ones),
 *  named references with or without ';', and the longest legacy-name prefix rule
 *  ('&ampx' → '&x', '&notit;' → '¬it;'). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHAR_REF, (whole, ref: string) => {
    if (ref[0] === '#') {
      const digits = ref.endsWith(';') ? ref.slice(0, -1) : ref;
      const isHex = digits[1] === 'x' || digits[1] === 'X';
      return numericCharRef(isHex ? parseInt(digits.slice(2), 16) : parseInt(digits.slice(1), 10));
    }
    const exact = lookupEntity(ref);
    if (exact !== undefined) return exact;
    for (let length = ref.length - 1; length > 1; length--) {
      const prefix = lookupEntity(ref.slice(0, length));
      if (prefix !== undefined) return prefix + ref.slice(length);
    }
    return whole;
  });
}

// ---------------------------------------------------------------------------------------
// ftfy.fix_text (ftfy 6, default settings)

/** ftfy's own entity table: '&name;' only (never without ';'), plus upper-cased forms of
 *  lower-case names that html.unescape would not decode (so '&EACUTE;' → 'É', as in text
 *  that went through an ASCII upper-casing). */
const FTFY_ENTITIES: ReadonlyMap<string, string> = (() => {
  const table = new Map<string, string>();
  for (const [name, code] of NAMED_ENTITIES) {
    const char = String.fromCodePoint(code);
    table.set(`&${name};`, char);
  }
  for (const [name, code] of NAMED_ENTITIES) {
    const upper = `&${name.toUpperCase()};`;
    if (name === name.toLowerCase() && htmlUnescape(upper) === upper) {
      table.set(upper, String.fromCodePoint(code).toUpperCase());
    }
  }
  return table;
})();

const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

function ftfyUnescapeHtml(text: string): string {
  return text.replace(FTFY_ENTITY, (entity) => {
    const known = FTFY_ENTITIES.get(entity);
    if (known !== undefined) return known;
    if (entity.startsWith('&#')) {
      // Only accept a numeric reference that html.unescape consumed entirely.
      const decoded = htmlUnescape(entity);
      return decoded.includes(';') ? entity : decoded;
    }
    return entity;
  });
}

const C1_CONTROL = /[\x80-\x9f]/g;
const LATIN_LIGATURES: Readonly<Record<string, string>> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn', '\u01c4': 'D\u017d', '\u01c5': 'D\u017e',
  '\u01c6': 'd\u017e', '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj', '\u01ca': 'NJ', '\u01cb': 'Nj',
  '\u01cc': 'nj', '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz', '\ufb00': 'ff', '\ufb01': 'fi',
  '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
const LATIN_LIGATURE = new RegExp(`[${Object.keys(LATIN_LIGATURES).join('')}]`, 'g');
const WIDE_OR_NARROW = /[\u3000\uff01-\uffef]/g;
const CURLY_SINGLE_QUOTE = /[\u02bc\u2018-\u201b]/g;
const CURLY_DOUBLE_QUOTE = /[\u201c-\u201f]/g;
const LINE_BREAK = /\r\n|[\r\u2028\u2029\x85]/g;
const LONE_SURROGATE = /[\ud800-\udfff]/gu; // with the u flag, paired halves are one code point
const TERMINAL_ESCAPE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu; // Python's \d is any decimal digit
const CONTROL_CHAR = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
/** Text made of these characters only is returned by fix_text unchanged. */
const PLAIN_ASCII = /^[\x20-\x25\x27-\x7e\t\n]*$/;

function fixSegment(segment: string, unescapeEntities: boolean): string {
  let text = segment;
  // ftfy repeats its passes until nothing changes, so '&amp;amp;' ends up as '&'.
  for (;;) {
    const before = text;
    if (unescapeEntities) text = ftfyUnescapeHtml(text);
    text = text
      .replace(C1_CONTROL, (c) => CP1252_C1[c.charCodeAt(0) - 0x80])
      .replace(LATIN_LIGATURE, (c) => LATIN_LIGATURES[c])
      .replace(WIDE_OR_NARROW, (c) => c.normalize('NFKC'))
      .replace(CURLY_SINGLE_QUOTE, "'")
      .replace(CURLY_DOUBLE_QUOTE, '"')
      .replace(LINE_BREAK, '\n')
      .replace(LONE_SURROGATE, '\ufffd')
      .replace(TERMINAL_ESCAPE, '')
      .replace(CONTROL_CHAR, '')
      .normalize('NFC');
    if (text === before) return text;
  }
}

/** ftfy.fix_text with its default configuration, minus mojibake repair (see top of file).
 *  Works line by line like ftfy; entity decoding is switched off from the first line that
 *  contains '<' onwards, since such text is probably HTML whose entities are meant. */
export function fixText(text: string): string {
  if (PLAIN_ASCII.test(text)) return text;
  const lines: string[] = [];
  let unescapeEntities = true;
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start) + 1 || text.length;
    const line = text.slice(start, end);
    if (line.includes('<')) unescapeEntities = false;
    lines.push(fixSegment(line, unescapeEntities));
    start = end;
  }
  return lines.join('');
}
