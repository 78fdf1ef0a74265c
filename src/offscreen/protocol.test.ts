import { describe, expect, it } from 'vitest';
import { isEngineProgress, isVisionOpeningNote } from './protocol';

describe('isEngineProgress', () => {
  it('accepts a start-up step for a request id', () => {
    expect(isEngineProgress({ id: 3, step: 'text-session' })).toBe(true);
    expect(isEngineProgress({ id: 3, step: 'warming-up' })).toBe(true);
    expect(isEngineProgress({ id: 3, step: 'reading-files' })).toBe(true);
  });

  it('never takes a reply for progress, nor an unknown step or a missing id', () => {
    expect(isEngineProgress({ id: 3, ok: true, opened: { threads: 2, openMs: 5 } })).toBe(false);
    expect(isEngineProgress({ id: 3, ok: false, error: 'x', step: 'text-session' })).toBe(false);
    expect(isEngineProgress({ id: 3, step: 'checking' })).toBe(false);
    expect(isEngineProgress({ step: 'text-session' })).toBe(false);
    expect(isEngineProgress(null)).toBe(false);
  });
});

describe('isVisionOpeningNote', () => {
  it('takes only an object whose opening is a boolean', () => {
    expect(isVisionOpeningNote({ opening: true })).toBe(true);
    expect(isVisionOpeningNote({ opening: false })).toBe(true);
    for (const other of [{ opening: 'yes' }, { opening: 1 }, {}, null, true, 'opening']) expect(isVisionOpeningNote(other)).toBe(false);
  });
});
