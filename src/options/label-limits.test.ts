import { describe, expect, it } from 'vitest';
import { parseLabels } from './label-limits';
import { MAX_LABEL_LENGTH, MAX_LABELS } from '../messages';
import { parseRequestMessage } from '../message-validators';

describe('label limits', () => {
  it('accepts what the validator accepts, and says why otherwise', () => {
    const ok = parseLabels(` cat \n\n${'a'.repeat(MAX_LABEL_LENGTH)}\n`);
    expect(ok).toEqual({ labels: ['cat', 'a'.repeat(MAX_LABEL_LENGTH)], problem: null });
    expect(parseRequestMessage({ type: 'classify', tabId: 1, url: 'https://a.test/x.png', labels: ok.labels })).not.toBeNull();

    const long = parseLabels(`cat\n${'b'.repeat(MAX_LABEL_LENGTH + 1)}`);
    expect(long.problem).toBe(`Each label can have at most ${MAX_LABEL_LENGTH} characters: label 2 has ${MAX_LABEL_LENGTH + 1}.`);
    expect(parseRequestMessage({ type: 'classify', tabId: 1, url: 'https://a.test/x.png', labels: long.labels })).toBeNull();

    const many = parseLabels(Array.from({ length: MAX_LABELS + 1 }, (_, i) => `l${i}`).join('\n'));
    expect(many.problem).toMatch(/^At most 1,000 labels: there are 1,001\.$/);
    expect(parseRequestMessage({ type: 'classify', tabId: 1, url: 'https://a.test/x.png', labels: many.labels })).toBeNull();
  });
});

describe('one label bound', () => {
  it('label sets keep the bound the message validator applies', async () => {
    const { MAX_LABEL } = await import('../engine/label-sets');
    expect(MAX_LABEL).toBe(MAX_LABEL_LENGTH);
  });
});
