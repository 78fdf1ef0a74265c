export function toPixelValues(rgb: Uint8Array, size: number, count: number): Float32Array;
