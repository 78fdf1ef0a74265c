// Referrer policy tokens (https://w3c.github.io/webappsec-referrer-policy/#referrer-policies),
// shared by the content script that reads a page's policy, the message validator and the
// background that applies it.

export const REFERRER_POLICIES = [
  'no-referrer',
  'no-referrer-when-downgrade',
  'same-origin',
  'origin',
  'strict-origin',
  'origin-when-cross-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
] as const;

export type ReferrerPolicyToken = (typeof REFERRER_POLICIES)[number];

const TOKENS = new Set<string>(REFERRER_POLICIES);

export function isReferrerPolicy(v: unknown): v is ReferrerPolicyToken {
  return typeof v === 'string' && TOKENS.has(v);
}

/**
 * The policy a `<meta name=referrer content=…>` sets, or null when it sets none. HTML keeps four
 * legacy keywords alive ("never", "default", "always", "origin-when-crossorigin"); an unknown
 * value leaves the document's policy as it was.
 */
export function metaReferrerPolicy(content: string): ReferrerPolicyToken | null {
  const value = content.trim().toLowerCase();
  switch (value) {
    case 'never':
      return 'no-referrer';
    case 'default':
      return 'strict-origin-when-cross-origin';
    case 'always':
      return 'unsafe-url';
    case 'origin-when-crossorigin':
      return 'origin-when-cross-origin';
    default:
      return isReferrerPolicy(value) ? value : null;
  }
}
