import { describe, expect, it } from 'vitest';
import { contentKey, elementKey, hashString, isLocalKey } from './local-keys';
import { isImageUrl } from '../message-validators';

describe('page-local image names', () => {
  it('name equal content equally and different content differently', () => {
    expect(contentKey('<svg>a</svg>', 'svg')).toBe(contentKey('<svg>a</svg>', 'svg'));
    expect(contentKey('<svg>a</svg>', 'svg')).not.toBe(contentKey('<svg>b</svg>', 'svg'));
    expect(hashString('abc')).not.toBe(hashString('abd'));
  });

  it('name each element once, and pass the message validators', () => {
    const a = {} as Element;
    const b = {} as Element;
    expect(elementKey(a, 'canvas')).toBe(elementKey(a, 'canvas'));
    expect(elementKey(a, 'canvas')).not.toBe(elementKey(b, 'canvas'));
    expect(isLocalKey(elementKey(a, 'canvas'))).toBe(true);
    expect(isImageUrl(elementKey(a, 'canvas'))).toBe(true);
    expect(isLocalKey('https://a.test/x.png')).toBe(false);
  });
});
