// One way to turn anything thrown into words for people (popup, options, CLI, logs).

/** An error's message (what the popup lists for an image or the model), or the thrown value as text. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A failed fetch's message with what lies under it: fetch() rejects with a bare "fetch failed"
 * (Node) or "Failed to fetch" (browsers) and keeps the reason (ECONNREFUSED, a TLS error) in `cause`.
 */
export function describeWithCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  const inner = cause instanceof Error && cause.message && cause.message !== error.message ? cause.message : '';
  return [error.message, code || inner].filter(Boolean).join(': ');
}
