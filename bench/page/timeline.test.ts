import { describe, expect, it } from 'vitest';
import { engineStartMs } from './timeline.ts';

describe('engineStartMs', () => {
  it('is the model request when the page asked for the model before the popup opened', () => {
    expect(engineStartMs({ modelRequestedMs: -1_200 })).toBe(-1_200);
  });

  it('is the popup opening when the request came with it or after it, or was not seen', () => {
    expect(engineStartMs({ modelRequestedMs: 40 })).toBe(0);
    expect(engineStartMs({ modelRequestedMs: NaN })).toBe(0);
  });
});
