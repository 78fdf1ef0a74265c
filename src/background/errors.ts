/** An error's message for people (the popup lists why an image or the model failed). */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
