import { describe, expect, it } from 'vitest';
import { collectReleased, concatBytes, gitBlobOid, hex, promptedCollections, RECLAIM_AFTER_BYTES, releaseBuffer, sha256Hex } from './bytes';

describe('bytes', () => {
  it('concatenates parts in order and returns a lone part as is', () => {
    const a = Uint8Array.of(1, 2);
    expect(concatBytes([a, Uint8Array.of(), Uint8Array.of(3)])).toEqual(Uint8Array.of(1, 2, 3));
    expect(concatBytes([a])).toBe(a);
    expect(concatBytes([])).toEqual(new Uint8Array(0));
  });

  it('hashes like the standard tools', async () => {
    const abc = new TextEncoder().encode('abc');
    expect(await sha256Hex(abc)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // `printf 'hello\n' | git hash-object --stdin`
    expect(await gitBlobOid(new TextEncoder().encode('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(hex(Uint8Array.of(0, 15, 255))).toBe('000fff');
  });

  it('releases a buffer: its views read as empty, a second release and a shared buffer are left alone', () => {
    const bytes = Uint8Array.of(1, 2, 3);
    const pixels = new Float32Array(bytes.buffer, 0, 0);
    releaseBuffer(bytes.buffer);
    expect(bytes.buffer.byteLength).toBe(0);
    expect(bytes.length).toBe(0);
    expect(pixels.length).toBe(0);
    expect(() => releaseBuffer(bytes.buffer)).not.toThrow();
    const shared = new SharedArrayBuffer(8);
    releaseBuffer(shared);
    expect(shared.byteLength).toBe(8);
  });

  it('asks for a collection once enough bytes were released since the last, and only then', () => {
    collectReleased(); // whatever earlier tests released
    const before = promptedCollections();
    const half = () => new ArrayBuffer(RECLAIM_AFTER_BYTES / 2);
    releaseBuffer(half());
    collectReleased();
    expect(promptedCollections()).toBe(before);
    // Detached or shared buffers free nothing, so they do not count.
    const gone = half();
    releaseBuffer(gone);
    releaseBuffer(gone);
    releaseBuffer(new SharedArrayBuffer(RECLAIM_AFTER_BYTES));
    collectReleased();
    expect(promptedCollections()).toBe(before + 1);
    collectReleased();
    expect(promptedCollections()).toBe(before + 1);
  });
});
