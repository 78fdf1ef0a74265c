// Runs in Chromium (bench/page/images.ts): draws one distinct picture per entry, encodes it as
// the entry's format with canvas.toBlob, and uploads the file plus its preprocessed pixels
// (shortest edge resized to `size`, centre crop, RGB bytes), decoded back from the encoded file
// so lossy formats reach the baselines as they reach the extension.

/** mulberry32: a small seeded generator, so every run draws the same pictures. */
const random = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const colour = (rnd) => `hsl(${Math.floor(rnd() * 360)} ${40 + Math.floor(rnd() * 60)}% ${25 + Math.floor(rnd() * 50)}%)`;

const put = async (path, body) => {
  const res = await fetch(`/upload/${path}`, { method: 'PUT', body });
  if (!res.ok) throw new Error(`upload ${path}: HTTP ${res.status}`);
};

const draw = (entry) => {
  const rnd = random(entry.seed);
  const canvas = new OffscreenCanvas(entry.width, entry.height);
  const g = canvas.getContext('2d');
  const grad = g.createLinearGradient(0, 0, entry.width, entry.height);
  grad.addColorStop(0, colour(rnd));
  grad.addColorStop(1, colour(rnd));
  g.fillStyle = grad;
  g.fillRect(0, 0, entry.width, entry.height);
  const unit = Math.min(entry.width, entry.height);
  for (let s = 0; s < 24; s++) {
    g.fillStyle = colour(rnd);
    g.beginPath();
    if (rnd() < 0.5) g.arc(rnd() * entry.width, rnd() * entry.height, unit * (0.03 + rnd() * 0.2), 0, 2 * Math.PI);
    else g.rect(rnd() * entry.width, rnd() * entry.height, unit * (0.05 + rnd() * 0.3), unit * (0.05 + rnd() * 0.3));
    g.fill();
  }
  g.fillStyle = 'white';
  g.font = `bold ${Math.round(unit / 4)}px sans-serif`;
  g.fillText(String(entry.label), unit * 0.1, unit * 0.4);
  return canvas;
};

/** Shortest edge to `size`, centre crop, as RGB bytes (HWC). */
const preprocess = (bitmap, size) => {
  const scale = size / Math.min(bitmap.width, bitmap.height);
  const w = Math.max(size, Math.round(bitmap.width * scale));
  const h = Math.max(size, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(size, size);
  const g = canvas.getContext('2d');
  g.imageSmoothingQuality = 'medium';
  g.drawImage(bitmap, -Math.floor((w - size) / 2), -Math.floor((h - size) / 2), w, h);
  const rgba = g.getImageData(0, 0, size, size).data;
  const rgb = new Uint8Array(size * size * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    rgb[q] = rgba[p];
    rgb[q + 1] = rgba[p + 1];
    rgb[q + 2] = rgba[p + 2];
  }
  return rgb;
};

/** entries: { file, type, width, height, seed, label }[]; sizes: crop sizes wanted. Returns encoded byte counts. */
export async function generate({ dir, entries, sizes }) {
  const crops = Object.fromEntries(sizes.map((s) => [s, []]));
  const bytes = [];
  for (const entry of entries) {
    const blob = await draw(entry).convertToBlob({ type: entry.type, quality: 0.85 });
    if (blob.type !== entry.type) throw new Error(`this browser encodes ${entry.type} as ${blob.type}`);
    await put(`${dir}/${entry.file}`, blob);
    const bitmap = await createImageBitmap(blob);
    for (const s of sizes) crops[s].push(preprocess(bitmap, s));
    bitmap.close();
    bytes.push(blob.size);
  }
  for (const s of sizes) await put(`${dir}/pre-${s}.rgb`, new Blob(crops[s]));
  return bytes;
}
