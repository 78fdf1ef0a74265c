import { describe, expect, it } from 'vitest';
import { omittedText } from './failures';

describe('the count of images a page shows past what was listed', () => {
  it('says how many were listed of how many, and nothing when all were', () => {
    expect(omittedText({ found: 9_990, merged: 10, omitted: 2_345 })).toBe('10,000 of 12,345 images listed: the page shows more than can be indexed at once');
    expect(omittedText({ found: 40, merged: 0, omitted: 0 })).toBeNull();
  });
});
