import { describe, expect, it } from 'vitest';
import { checkReadBack, decodePlan, MAX_DECODE_PIXELS, PixelsUnreadableError } from './image-budget';

describe('decode plan under the pixel budget', () => {
  it('decodes images within the budget at full size', () => {
    expect(decodePlan({ width: 4000, height: 3000 }, 256)).toEqual({ kind: 'full' });
    expect(decodePlan({ width: 8000, height: 5000 }, 256)).toEqual({ kind: 'full' }); // exactly 40 MP
  });

  it('shrinks larger ones to the budget, keeping the aspect and at least the model input', () => {
    const plan = decodePlan({ width: 12000, height: 9000 }, 256);
    expect(plan.kind).toBe('downscale');
    if (plan.kind !== 'downscale') return;
    expect(plan.width * plan.height).toBeLessThanOrEqual(MAX_DECODE_PIXELS);
    expect(plan.width * plan.height).toBeGreaterThan(MAX_DECODE_PIXELS * 0.99);
    expect(plan.width / plan.height).toBeCloseTo(12000 / 9000, 3);
  });

  it('refuses, with a reason, bombs and images too narrow to shrink', () => {
    expect(decodePlan({ width: 20000, height: 20000 }, 256)).toEqual({ kind: 'refuse', reason: 'too many pixels to decode safely: 20000x20000 (400 MP)' });
    // 200 MP, but a 40 MP version would be 63 px tall: smaller than the model looks at.
    expect(decodePlan({ width: 1_000_000, height: 200 }, 256)).toMatchObject({ kind: 'refuse', reason: expect.stringContaining('too narrow to shrink') });
    expect(decodePlan({ width: 0, height: 10 }, 256)).toMatchObject({ kind: 'refuse' });
    expect(decodePlan({ width: NaN, height: 10 }, 256)).toMatchObject({ kind: 'refuse' });
  });

  it('takes other limits', () => {
    expect(decodePlan({ width: 100, height: 100 }, 10, { maxPixels: 2500 })).toEqual({ kind: 'downscale', width: 50, height: 50 });
    expect(decodePlan({ width: 100, height: 100 }, 60, { maxPixels: 2500 })).toMatchObject({ kind: 'refuse' });
  });
});

describe('read-back check', () => {
  it('refuses all-zero pixels, never returns them as a picture', () => {
    expect(() => checkReadBack(new Uint8ClampedArray(64 * 64 * 4), { width: 64, height: 64 })).toThrow(PixelsUnreadableError);
    expect(() => checkReadBack(new Uint8ClampedArray(64 * 64 * 4), { width: 64, height: 64 })).toThrow('pixels could not be read');
  });

  it('passes any pixel that is not zero, wherever it is, aligned or not', () => {
    const data = new Uint8ClampedArray(64 * 64 * 4);
    data[data.length - 1] = 1;
    expect(() => checkReadBack(data, { width: 64, height: 64 })).not.toThrow();
    const unaligned = new Uint8Array(new ArrayBuffer(4 * 9 + 1), 1, 4 * 9);
    unaligned[20] = 7;
    expect(() => checkReadBack(unaligned, { width: 3, height: 3 })).not.toThrow();
    unaligned[20] = 0;
    expect(() => checkReadBack(unaligned, { width: 3, height: 3 })).toThrow(PixelsUnreadableError);
  });
});
