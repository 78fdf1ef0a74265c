import { describe, expect, it } from 'vitest';
import { bytesText, confirmText, downloadShare, startingText } from './model-text';

describe('model-text', () => {
  it('the bar is full only when every byte is in', () => {
    expect(downloadShare(0, null)).toBe(0);
    expect(downloadShare(500, 1000)).toBe(0.5);
    expect(downloadShare(999_999, 1_000_000)).toBeLessThan(1);
    expect(downloadShare(1000, 1000)).toBe(1);
  });

  it('says sizes, progress and start-up steps in words', () => {
    expect(confirmText('MobileCLIP-S0', 90_100_000)).toBe('Download MobileCLIP-S0 (90.1 MB) to run on this device?');
    expect(bytesText(12_300_000, 45_600_000)).toBe('12.3 MB of 45.6 MB');
    expect(bytesText(12_300_000, null)).toBe('12.3 MB');
    expect(startingText('S0', 'reading-files', 1_000, 5_400)).toBe('Starting S0… (reading the model files, 4 s)');
  });
});
