// What a person types into the search box, as terms to embed and combine.
// Forgiving on purpose: people write subtraction as "a - b", "a -b", "-b", "a − b" (the minus
// sign U+2212, which some keyboards and phones produce), or "not b"; combination as "a + b" or
// "a, b"; and quote a prompt to have it embedded exactly as written, operators and all.
// A hyphen inside a word ("t-shirt", "x-ray") is part of the word, never an operator.

export interface QueryTerm {
  text: string;
  /** +1: look for it; -1: look away from it. */
  sign: 1 | -1;
  /** Written in quotes: embedded exactly as written. */
  exact: boolean;
}

type Token = { kind: 'word'; text: string } | { kind: 'quoted'; text: string } | { kind: 'plus' } | { kind: 'minus' };

// Hyphen-minus, the minus sign, and the en dash that "smart punctuation" turns " - " into.
const MINUS_CHARS = new Set(['-', '\u2212', '\u2013']);
const QUOTE_CLOSE: Record<string, string> = { '"': '"', '\u201c': '\u201d', '\u201e': '\u201c' };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let word = '';
  const endWord = () => {
    if (word) tokens.push({ kind: 'word', text: word });
    word = '';
  };
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (/\s/.test(c)) endWord();
    else if (c in QUOTE_CLOSE) {
      endWord();
      const close = query.indexOf(QUOTE_CLOSE[c], i + 1);
      const end = close === -1 ? query.length : close;
      tokens.push({ kind: 'quoted', text: query.slice(i + 1, end).trim() });
      i = end;
    } else if (c === ',' || c === '+') {
      endWord();
      tokens.push({ kind: 'plus' });
    } else if (MINUS_CHARS.has(c) && !word) tokens.push({ kind: 'minus' });
    else word += c;
  }
  endWord();
  return tokens;
}

const isTerm = (t: Token | undefined) => t?.kind === 'word' || t?.kind === 'quoted';

/**
 * Splits a query into signed terms. Words between operators form one term ("red sports car");
 * a minus or "not" applies to the term that follows it.
 */
export function parseQuery(query: string): QueryTerm[] {
  const tokens = tokenize(query.normalize('NFC'));
  const terms: QueryTerm[] = [];
  let words: string[] = [];
  let sign: 1 | -1 = 1;
  const endTerm = () => {
    if (words.length) terms.push({ text: words.join(' '), sign, exact: false });
    words = [];
    sign = 1;
  };
  tokens.forEach((token, i) => {
    if (token.kind === 'plus') endTerm();
    else if (token.kind === 'minus') {
      endTerm();
      sign = -1;
    } else if (token.kind === 'quoted') {
      const quotedSign = words.length ? 1 : sign;
      endTerm();
      if (token.text) terms.push({ text: token.text, sign: quotedSign, exact: true });
    } else if (/^not$/i.test(token.text) && isTerm(tokens[i + 1])) {
      endTerm();
      sign = -1;
    } else {
      words.push(token.text);
    }
  });
  endTerm();
  return terms;
}

/** Whether the query has anything to look for (only subtractions leave nothing). */
export function hasPositiveTerm(terms: readonly QueryTerm[]): boolean {
  return terms.some((t) => t.sign > 0);
}
