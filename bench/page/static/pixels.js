// Shared by the bare-ORT page (static/bare.js) and onnxruntime-node (baselines.ts), so both feed
// the model the same tensor: RGB crops (HWC bytes, `count` of size×size) → float32 NCHW in [0,1]
// (the replicas take no mean/std).
export function toPixelValues(rgb, size, count) {
  const plane = size * size;
  if (rgb.length < count * plane * 3) throw new Error(`${rgb.length} bytes hold fewer than ${count} crops of ${size}×${size}`);
  const out = new Float32Array(count * 3 * plane);
  for (let n = 0; n < count; n++)
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++) out[n * 3 * plane + c * plane + p] = rgb[(n * plane + p) * 3 + c] / 255;
  return out;
}
