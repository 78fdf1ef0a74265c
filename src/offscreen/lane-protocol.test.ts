import { describe, expect, it } from 'vitest';
import { requireModel } from '../engine/registry';
import { isLaneReply, isLaneRequest } from './lane-protocol';

describe('lane protocol', () => {
  it('accepts the requests the engine worker sends, and nothing else', () => {
    const spec = requireModel('fixture');
    const source = { kind: 'bundled', baseUrl: 'models' };
    const open = { id: 1, op: 'open', spec, source, threads: 1, maxBatch: 4 };
    expect(isLaneRequest(open)).toBe(true);
    expect(isLaneRequest({ ...open, source: { kind: 'store', baseUrl: 'https://huggingface.co' } })).toBe(true);
    expect(isLaneRequest({ id: 2, op: 'images', pixels: new Float32Array(12), count: 1 })).toBe(true);
    expect(isLaneRequest({ ...open, source: { kind: 'elsewhere', baseUrl: 'models' } })).toBe(false);
    expect(isLaneRequest({ ...open, source: undefined })).toBe(false);
    expect(isLaneRequest({ ...open, spec: { ...spec, imageSize: '256' } })).toBe(false);
    expect(isLaneRequest({ ...open, spec: { id: 'fixture', imageSize: 256 } })).toBe(false);
    expect(isLaneRequest({ ...open, threads: 1.5 })).toBe(false);
    expect(isLaneRequest({ ...open, maxBatch: 0 })).toBe(false);
    expect(isLaneRequest({ ...open, maxBatch: undefined })).toBe(false);
    expect(isLaneRequest({ id: 2, op: 'images', pixels: [0, 1], count: 1 })).toBe(false);
    expect(isLaneRequest({ id: 2, op: 'images', pixels: new Float32Array(12), count: 0 })).toBe(false);
    expect(isLaneRequest({ op: 'images', pixels: new Float32Array(12), count: 1 })).toBe(false);
    expect(isLaneRequest({ id: 3, op: 'texts', texts: ['a'] })).toBe(false);
    expect(isLaneRequest(null)).toBe(false);
  });

  it("accepts the lane's answers, and nothing else", () => {
    expect(isLaneReply({ id: 1, ok: true })).toBe(true);
    expect(isLaneReply({ id: 1, ok: true, rows: [new Float32Array(2)] })).toBe(true);
    expect(isLaneReply({ id: 1, ok: false, error: 'why' })).toBe(true);
    expect(isLaneReply({ id: 1, ok: true, rows: [[0.1, 0.2]] })).toBe(false);
    expect(isLaneReply({ id: 1, ok: false })).toBe(false);
    expect(isLaneReply({ ok: true })).toBe(false);
    expect(isLaneReply('ok')).toBe(false);
  });
});
