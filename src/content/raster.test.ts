import { describe, expect, it } from 'vitest';
import { outputSize } from './raster';

describe('raster output size', () => {
  it('keeps bitmaps at their size unless huge, and draws vectors big enough for the model', () => {
    expect(outputSize(160, 120, false)).toEqual({ width: 160, height: 120 });
    expect(outputSize(4000, 2000, false)).toEqual({ width: 1024, height: 512 });
    expect(outputSize(160, 120, true)).toEqual({ width: 341, height: 256 });
    // A long, thin vector is limited by its long side.
    expect(outputSize(2000, 50, true)).toEqual({ width: 1024, height: 26 });
    expect(outputSize(0, 0, false)).toEqual({ width: 1, height: 1 });
  });
});
