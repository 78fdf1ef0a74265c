import { describe, expect, it } from 'vitest';
import { parseContentMessage } from './message-validators';

describe('viewport message (content → background)', () => {
  it('takes a finite scroll position and a non-negative height, and nothing else', () => {
    expect(parseContentMessage({ type: 'viewport', top: 4000, height: 800, extra: 'x' })).toEqual({ type: 'viewport', top: 4000, height: 800 });
    for (const bad of [{ top: NaN, height: 800 }, { top: 0, height: -1 }, { top: '0', height: 800 }, { top: 0 }, { top: 0, height: Infinity }]) {
      expect(parseContentMessage({ type: 'viewport', ...bad })).toBeNull();
    }
  });
});
