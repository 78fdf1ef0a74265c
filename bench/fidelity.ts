// How far apart two model inputs are (uint8 HWC RGB): the largest difference in levels and the
// share of bytes that differ. The benches' fidelity measure against a reference path.
export function compare(a: Uint8Array, b: Uint8Array): { maxDelta: number; differing: number } {
  let maxDelta = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > maxDelta) maxDelta = d;
    if (d) count++;
  }
  return { maxDelta, differing: count / a.length };
}
