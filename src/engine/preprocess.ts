// Image preprocessing that reproduces the MobileCLIP reference bit for bit:
//
//   PIL image .convert('RGB')
//   -> torchvision Resize(size, BILINEAR)   shortest edge = size, long edge truncated
//   -> CenterCrop(size)                     offsets rounded half-to-even (Python round)
//   -> ToTensor()                           uint8 / 255, CHW float32
//   -> Normalize(mean, std)                 only for variants that define mean/std
//
// On PIL images torchvision's Resize is Pillow's ImagingResample, so the resize below is a
// port of Pillow's libImaging/Resample.c for 8-bit images: the same double-precision
// coefficients (precompute_coeffs), the same conversion to 22-bit fixed point
// (normalize_coeffs_8bpc), the same two passes (horizontal first, rounded and clamped to
// uint8 in between) and the same clip8 rounding. Matching it exactly matters because the
// embeddings are compared against ones computed by the reference pipeline.
//
// Unlike Pillow we only compute the output pixels that survive the centre crop, and only
// the intermediate rows those pixels need. Each output pixel depends only on its own
// coefficients, so this changes nothing in the result.

/** RGBA pixels, 4 bytes per pixel, straight (non-premultiplied) alpha, rows top to bottom. */
export interface RGBAImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /**
   * Set when the pixels are only a window of a larger picture (see sourceWindow): where the
   * window lies in it and that picture's size. The resize is computed for the whole picture.
   */
  within?: { left: number; top: number; of: { width: number; height: number } };
}

/** A rectangle of a picture, in its pixels. */
export interface SourceWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

export interface PreprocessSpec {
  imageSize: number;
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * What transparent pixels are composited onto before resizing.
 *
 * The reference converts with PIL's convert('RGB'), which simply drops alpha and keeps
 * whatever colour the file stores under transparent pixels. That colour is not reproducible
 * here: browsers decode through premultiplied canvases, so fully transparent pixels read back
 * as black and partly transparent ones lose precision. So instead we composite onto a solid
 * background: out = round((c * a + bg * (255 - a)) / 255) per channel, in sRGB values
 * (no linearisation, like browsers and PIL's alpha_composite). White is the default because
 * transparent product shots and logos are designed to sit on white pages; 'black' gives what
 * drawing onto a cleared canvas and ignoring alpha would give. Fully opaque pixels are left
 * untouched, so opaque images match the reference exactly.
 */
export type Background = 'white' | 'black';

// Pillow's fixed-point precision for 8-bit resampling: 32 bits minus 8 for the pixel value
// minus 2 bits of headroom for the accumulation.
const PRECISION_BITS = 32 - 8 - 2;
const ONE_HALF = 1 << (PRECISION_BITS - 1);

/**
 * Output size of torchvision's Resize(size) with an int size: the shorter edge becomes size
 * and the longer edge is int(size * long / short), i.e. truncated, not rounded.
 */
export function resizedSize(width: number, height: number, size: number): [w: number, h: number] {
  checkSize(size);
  if (!(width > 0 && height > 0)) throw new Error(`Invalid image size ${width}x${height}`);
  if (width <= height) return [size, Math.trunc((size * height) / width)];
  return [Math.trunc((size * width) / height), size];
}

/**
 * Top-left corner of torchvision's CenterCrop(size) on an image of the given (already
 * resized) dimensions: int(round((dim - size) / 2.0)) where Python's round ties to even,
 * so 42.5 -> 42 but 99.5 -> 100.
 */
export function cropOffsets(width: number, height: number, size: number): [left: number, top: number] {
  checkSize(size);
  if (width < size || height < size) throw new Error(`Cannot centre-crop ${width}x${height} to ${size}`);
  return [roundHalfToEven((width - size) / 2), roundHalfToEven((height - size) / 2)];
}

/**
 * The part of a width x height picture that resizeAndCrop(…, size) reads: every source pixel
 * with a non-zero weight in some output pixel of the centre crop. Reading only this window
 * back from a decoded bitmap gives the same model input as the whole picture.
 */
export function sourceWindow(width: number, height: number, size: number): SourceWindow {
  const [outWidth, outHeight] = resizedSize(width, height, size);
  const [left, top] = cropOffsets(outWidth, outHeight, size);
  const [xFirst, xEnd] = outWidth !== width ? sourceSpan(coefficientsFor(width, outWidth), left, size) : [left, left + size];
  const [yFirst, yEnd] = outHeight !== height ? sourceSpan(coefficientsFor(height, outHeight), top, size) : [top, top + size];
  return { left: xFirst, top: yFirst, width: xEnd - xFirst, height: yEnd - yFirst };
}

/**
 * Resize (shortest edge to size, PIL bilinear) and centre-crop to size x size.
 * Returns size*size*3 uint8 RGB in HWC order: the pixels the model sees, times 255.
 */
export function resizeAndCrop(image: RGBAImage, size: number, opts: { background?: Background } = {}): Uint8Array {
  const picture = image.within?.of ?? image;
  const [width, height] = resizedSize(picture.width, picture.height, size);
  const [left, top] = cropOffsets(width, height, size);
  return resample(image, width, height, { left, top, width: size, height: size }, opts.background ?? 'white');
}

/**
 * Full Pillow-exact bilinear resize to width x height, as HWC uint8 RGB. resizeAndCrop
 * computes the same pixels for the cropped region only; this is the plain version for
 * other uses (and the baseline in the benchmark).
 */
export function resizeImage(
  image: RGBAImage,
  width: number,
  height: number,
  opts: { background?: Background } = {},
): Uint8Array {
  checkSize(width);
  checkSize(height);
  return resample(image, width, height, { left: 0, top: 0, width, height }, opts.background ?? 'white');
}

/**
 * ToTensor (+ Normalize): HWC uint8 RGB -> CHW float32, written into out at offset so that
 * a batch can be packed without copies. Values are computed in float32 the way torch does
 * (x / 255, then (x - mean) / std, each rounded to float32), so they match the reference
 * tensor exactly rather than approximately.
 */
export function toPixelValues(
  rgb: Uint8Array,
  size: number,
  norm?: Normalization,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  checkSize(size);
  const plane = size * size;
  if (rgb.length !== plane * 3) throw new Error(`Expected ${plane * 3} RGB bytes for size ${size}, got ${rgb.length}`);
  const target = out ?? new Float32Array(plane * 3);
  if (offset < 0 || offset + plane * 3 > target.length)
    throw new Error(`Output too small: need ${plane * 3} floats at offset ${offset}, have ${target.length}`);

  // Only 256 possible inputs per channel: compute each value once, exactly as torch would.
  const lut = new Float32Array(256 * 3);
  for (let c = 0; c < 3; c++) {
    const mean = norm ? Math.fround(norm.mean[c]) : 0;
    const std = norm ? Math.fround(norm.std[c]) : 1;
    for (let v = 0; v < 256; v++) {
      const scaled = Math.fround(v / 255);
      lut[c * 256 + v] = norm ? Math.fround(Math.fround(scaled - mean) / std) : scaled;
    }
  }
  for (let c = 0; c < 3; c++) {
    const base = offset + c * plane;
    const table = c * 256;
    for (let i = 0, s = c; i < plane; i++, s += 3) target[base + i] = lut[table + rgb[s]];
  }
  return target;
}

/** Decoded image -> CHW float32 model input (batch slot at offset of out, if given). */
export function preprocess(image: RGBAImage, spec: PreprocessSpec, out?: Float32Array, offset = 0): Float32Array {
  return toPixelValues(resizeAndCrop(image, spec.imageSize), spec.imageSize, normalizationOf(spec), out, offset);
}

/** The spec's mean and std, if it normalises (both or neither). */
export function normalizationOf({ mean, std }: PreprocessSpec): Normalization | undefined {
  if ((mean === undefined) !== (std === undefined)) throw new Error('Normalisation needs both mean and std');
  return mean && std ? { mean, std } : undefined;
}

// ---------------------------------------------------------------------------------------
// Resampling

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A view of 8-bit RGB(A) pixels: pixel (x, y) starts at offset + y*rowStride + x*pixelStride. */
interface Plane {
  data: Uint8Array | Uint8ClampedArray;
  offset: number;
  rowStride: number;
  pixelStride: number;
}

/**
 * Resamples image to outWidth x outHeight and returns only the pixels inside crop,
 * as HWC uint8 RGB.
 */
function resample(image: RGBAImage, outWidth: number, outHeight: number, crop: Rect, background: Background): Uint8Array {
  const { width: dataWidth, height: dataHeight, data } = image;
  if (data.length < dataWidth * dataHeight * 4)
    throw new Error(`Image data too short for ${dataWidth}x${dataHeight} RGBA (${data.length} bytes)`);
  const { width: inWidth, height: inHeight } = image.within?.of ?? image;
  if (crop.left < 0 || crop.top < 0 || crop.left + crop.width > outWidth || crop.top + crop.height > outHeight)
    throw new Error('Crop rectangle lies outside the resized image');

  // Like Pillow, skip a pass whose dimension is unchanged (it would be the identity anyway).
  const horizontal = outWidth !== inWidth ? coefficientsFor(inWidth, outWidth) : undefined;
  const vertical = outHeight !== inHeight ? coefficientsFor(inHeight, outHeight) : undefined;

  // The source rectangle that influences the kept pixels.
  const [xFirst, xEnd] = horizontal ? sourceSpan(horizontal, crop.left, crop.width) : [crop.left, crop.left + crop.width];
  const [yFirst, yEnd] = vertical ? sourceSpan(vertical, crop.top, crop.height) : [crop.top, crop.top + crop.height];
  const region: Region = { xFirst, xEnd, yFirst, yEnd };
  const { left: windowLeft, top: windowTop } = image.within ?? { left: 0, top: 0 };
  if (xFirst < windowLeft || yFirst < windowTop || xEnd > windowLeft + dataWidth || yEnd > windowTop + dataHeight)
    throw new Error(`The pixels read (${dataWidth}x${dataHeight} at ${windowLeft},${windowTop}) miss part of the source the crop needs`);

  const out = new Uint8Array(crop.width * crop.height * 3);
  const rowBytes = crop.width * 3;

  // After this step, columns holds pixel (x in crop coordinates, y in source rows).
  let columns: Plane;
  if (horizontal) {
    columns = vertical
      ? { data: new Uint8Array((yEnd - yFirst) * rowBytes), offset: -yFirst * rowBytes, rowStride: rowBytes, pixelStride: 3 }
      : { data: out, offset: -crop.top * rowBytes, rowStride: rowBytes, pixelStride: 3 };
    // Assume the region is opaque (by far the common case) and let the pass verify it, which
    // costs nothing since it reads every pixel anyway; redo from a composited copy if not.
    const pixels = imageWords(image);
    const opaque = horizontalPass(pixels, horizontal, crop.left, crop.width, yFirst, yEnd, columns);
    if (!opaque) {
      const composited = compositeRegion(image, region, background);
      horizontalPass(composited.words, horizontal, crop.left, crop.width, yFirst, yEnd, columns);
    }
  } else {
    const source = isOpaque(imageWords(image), region) ? rgbaPlane(image) : compositeRegion(image, region, background).plane;
    columns = { ...source, offset: source.offset + crop.left * source.pixelStride };
  }

  if (vertical) verticalPass(columns, vertical, crop.top, crop.height, crop.width, out);
  else if (!horizontal) copyRows(columns, crop.top, crop.height, crop.width, out);
  return out;
}

/** Source pixels [xFirst, xEnd) x [yFirst, yEnd). */
interface Region {
  xFirst: number;
  xEnd: number;
  yFirst: number;
  yEnd: number;
}

/**
 * RGBA pixels as 32-bit words read little-endian (R in the low byte), so the horizontal pass
 * loads one word per pixel instead of three bytes. pixel (x, y) is words[offset + y*rowStride + x].
 */
interface Words {
  words: Int32Array;
  offset: number;
  rowStride: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Index of the data's first pixel, (0, 0) of the picture being at index 0: minus the window's origin. */
const originOffset = ({ width, within }: RGBAImage): number => (within ? -(within.top * width + within.left) : 0);

function imageWords(image: RGBAImage): Words {
  const { data, width, height } = image;
  const pixels = width * height;
  const offset = originOffset(image);
  // Aliasing the bytes is free; it needs 4-byte alignment and a little-endian machine
  // (every platform browsers run on). Otherwise assemble the words explicitly.
  if (LITTLE_ENDIAN && data.byteOffset % 4 === 0) return { words: new Int32Array(data.buffer, data.byteOffset, pixels), offset, rowStride: width };
  const words = new Int32Array(pixels);
  for (let i = 0, j = 0; i < pixels; i++, j += 4) words[i] = data[j] | (data[j + 1] << 8) | (data[j + 2] << 16) | (data[j + 3] << 24);
  return { words, offset, rowStride: width };
}

function rgbaPlane(image: RGBAImage): Plane {
  return { data: image.data, offset: originOffset(image) * 4, rowStride: image.width * 4, pixelStride: 4 };
}

/** Pillow's 1-D resampling coefficients for one (inSize -> outSize) pass, in fixed point. */
interface Coefficients {
  /** Per output index: first source index and number of taps. */
  bounds: Int32Array;
  /** Per output index: ksize fixed-point weights (only the first `taps` are used). */
  weights: Int32Array;
  ksize: number;
}

const coefficientCache = new Map<string, Coefficients>();
const COEFFICIENT_CACHE_LIMIT = 64;

function coefficientsFor(inSize: number, outSize: number): Coefficients {
  const key = `${inSize}>${outSize}`;
  let coefficients = coefficientCache.get(key);
  if (!coefficients) {
    // Pages have many distinct image sizes; forget everything rather than grow without bound.
    if (coefficientCache.size >= COEFFICIENT_CACHE_LIMIT) coefficientCache.clear();
    coefficients = computeCoefficients(inSize, outSize);
    coefficientCache.set(key, coefficients);
  }
  return coefficients;
}

function bilinearFilter(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}
const BILINEAR_SUPPORT = 1;

/** Port of Pillow's precompute_coeffs + normalize_coeffs_8bpc for the whole-image box. */
function computeCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  // When downscaling the filter is stretched by the scale factor: that is the antialiasing.
  const filterScale = Math.max(scale, 1);
  const support = BILINEAR_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  // Pillow multiplies by 1/filterscale instead of dividing; keep that for identical rounding.
  const inverseFilterScale = 1.0 / filterScale;

  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C casts to int truncate towards zero.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const taps = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < taps; x++) {
      const w = bilinearFilter((x + xmin - center + 0.5) * inverseFilterScale);
      k[x] = w;
      total += w;
    }
    for (let x = 0; x < taps; x++) {
      const w = total !== 0 ? k[x] / total : k[x];
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = taps;
  }
  return { bounds, weights, ksize };
}

/** [first, end) of the source indices feeding outputs first..first+count-1 (bounds are monotonic). */
function sourceSpan({ bounds }: Coefficients, first: number, count: number): [first: number, end: number] {
  const last = first + count - 1;
  return [bounds[first * 2], bounds[last * 2] + bounds[last * 2 + 1]];
}

/** Whether every pixel of the region has alpha 255. */
function isOpaque({ words, offset, rowStride }: Words, { xFirst, xEnd, yFirst, yEnd }: Region): boolean {
  let alpha = -1;
  for (let y = yFirst; y < yEnd; y++) {
    for (let i = offset + y * rowStride + xFirst, end = i + xEnd - xFirst; i < end; i++) alpha &= words[i];
  }
  return alpha >>> 24 === 255;
}

/**
 * The region composited onto background (see Background), as opaque RGBA in the same
 * coordinates as the image: both as bytes and as words.
 */
function compositeRegion(image: RGBAImage, { xFirst, xEnd, yFirst, yEnd }: Region, background: Background): { plane: Plane; words: Words } {
  const { data, width } = image;
  const origin = originOffset(image);
  const bg = background === 'white' ? 255 : 0;
  const regionWidth = xEnd - xFirst;
  const composited = new Uint8Array(regionWidth * (yEnd - yFirst) * 4);
  let o = 0;
  for (let y = yFirst; y < yEnd; y++) {
    for (let i = (origin + y * width + xFirst) * 4, end = (origin + y * width + xEnd) * 4; i < end; i += 4) {
      const a = data[i + 3];
      const rest = bg * (255 - a);
      // +127 then floor is round-to-nearest; no ties are possible since 255 is odd.
      composited[o++] = Math.floor((data[i] * a + rest + 127) / 255);
      composited[o++] = Math.floor((data[i + 1] * a + rest + 127) / 255);
      composited[o++] = Math.floor((data[i + 2] * a + rest + 127) / 255);
      composited[o++] = 255;
    }
  }
  const originPixel = yFirst * regionWidth + xFirst;
  const words = imageWords({ data: composited, width: regionWidth, height: yEnd - yFirst });
  return {
    plane: { data: composited, offset: -originPixel * 4, rowStride: regionWidth * 4, pixelStride: 4 },
    words: { ...words, offset: -originPixel },
  };
}

/** Pillow's clip8: drop the fixed-point fraction (the +0.5 was added up front), clamp to a byte. */
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Horizontal pass (Pillow's ImagingResampleHorizontal_8bpc) for output columns
 * colFirst..colFirst+colCount-1 on source rows rowFirst..rowEnd-1, writing column c of row y
 * to dst pixel (c, y). Returns whether every source pixel it read was opaque.
 */
function horizontalPass(
  src: Words,
  { bounds, weights, ksize }: Coefficients,
  colFirst: number,
  colCount: number,
  rowFirst: number,
  rowEnd: number,
  dst: Plane,
): boolean {
  const { words, rowStride } = src;
  const { data: dd, rowStride: drs } = dst;
  let alpha = -1;
  for (let y = rowFirst; y < rowEnd; y++) {
    const srcRow = src.offset + y * rowStride;
    let d = dst.offset + y * drs;
    for (let c = 0; c < colCount; c++, d += 3) {
      const xx = colFirst + c;
      const taps = bounds[xx * 2 + 1];
      let s = srcRow + bounds[xx * 2];
      let k = xx * ksize;
      let r = ONE_HALF;
      let g = ONE_HALF;
      let b = ONE_HALF;
      // Int32 arithmetic like Pillow's (sums stay below 2^31 for the bilinear filter);
      // Math.imul and |0 keep V8 on its integer fast path.
      for (let t = 0; t < taps; t++, s++, k++) {
        const w = weights[k];
        const p = words[s];
        alpha &= p;
        r = (r + Math.imul(p & 255, w)) | 0;
        g = (g + Math.imul((p >> 8) & 255, w)) | 0;
        b = (b + Math.imul((p >> 16) & 255, w)) | 0;
      }
      dd[d] = clip8(r);
      dd[d + 1] = clip8(g);
      dd[d + 2] = clip8(b);
    }
  }
  return alpha >>> 24 === 255;
}

/**
 * Vertical pass (Pillow's ImagingResampleVertical_8bpc) producing output rows
 * rowFirst..rowFirst+rowCount-1 for columns 0..colCount-1 of src into out (HWC RGB).
 */
function verticalPass(
  src: Plane,
  { bounds, weights, ksize }: Coefficients,
  rowFirst: number,
  rowCount: number,
  colCount: number,
  out: Uint8Array,
): void {
  const { data, rowStride, pixelStride } = src;
  let d = 0;
  for (let r = 0; r < rowCount; r++) {
    const yy = rowFirst + r;
    const taps = bounds[yy * 2 + 1];
    const k0 = yy * ksize;
    const top = src.offset + bounds[yy * 2] * rowStride;
    for (let c = 0; c < colCount; c++, d += 3) {
      let s = top + c * pixelStride;
      let r0 = ONE_HALF;
      let g0 = ONE_HALF;
      let b0 = ONE_HALF;
      for (let t = 0; t < taps; t++, s += rowStride) {
        const w = weights[k0 + t];
        r0 = (r0 + Math.imul(data[s], w)) | 0;
        g0 = (g0 + Math.imul(data[s + 1], w)) | 0;
        b0 = (b0 + Math.imul(data[s + 2], w)) | 0;
      }
      out[d] = clip8(r0);
      out[d + 1] = clip8(g0);
      out[d + 2] = clip8(b0);
    }
  }
}

/** No resampling needed at all: copy the crop, dropping the alpha byte if present. */
function copyRows(src: Plane, rowFirst: number, rowCount: number, colCount: number, out: Uint8Array): void {
  const { data, rowStride, pixelStride } = src;
  let o = 0;
  for (let y = rowFirst; y < rowFirst + rowCount; y++) {
    for (let c = 0, s = src.offset + y * rowStride; c < colCount; c++, s += pixelStride) {
      out[o++] = data[s];
      out[o++] = data[s + 1];
      out[o++] = data[s + 2];
    }
  }
}

function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size <= 0) throw new Error(`Invalid size ${size}: expected a positive integer`);
}
