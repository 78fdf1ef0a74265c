// Just enough ONNX protobuf handling for external data (weights kept in a side file that
// tensors reference by name, offset and length):
//
// - externalDataLocations(): which side files a graph needs, so the CLI can find them
//   beside the model file;
// - inlineExternalData(): a copy of the model with those bytes moved into the tensors
//   (raw_data), because onnxruntime-node can only resolve external data against a model
//   *path*, while the engine works from bytes. onnxruntime-web takes the side files
//   through its `externalData` session option instead and needs none of this.
// - outlineInitializers(): the reverse for onnxruntime-web, without copying any weight: the
//   graph refers to the weights where they lie in the model's own bytes.
//
// Only the messages on the way to a TensorProto are decoded; every other field is copied
// as raw bytes, so nothing else in the model changes.

import type { ModelBytes } from './types.ts';
import { concatBytes } from '../bytes.ts';

// Field numbers from onnx.proto3. Each entry lists the fields of a message that contain
// messages we must descend into, and what type those are.
type MessageType = 'model' | 'graph' | 'node' | 'attribute' | 'tensor' | 'sparseTensor' | 'function';
const CHILDREN: Record<MessageType, Record<number, MessageType>> = {
  model: { 7: 'graph', 25: 'function' }, // graph, functions
  function: { 7: 'node' }, // node
  graph: { 1: 'node', 5: 'tensor', 15: 'sparseTensor' }, // node, initializer, sparse_initializer
  node: { 5: 'attribute' }, // attribute
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparseTensor', 23: 'sparseTensor' },
  sparseTensor: { 1: 'tensor', 2: 'tensor' }, // values, indices
  tensor: {},
};
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

interface Field {
  no: number;
  wire: number;
  /** Whole field including its key, for verbatim copies. */
  start: number;
  end: number;
  /** End of the field's key (where its value or length prefix starts). */
  keyEnd: number;
  /** Varint value (WIRE_VARINT) or payload bounds (WIRE_LEN). */
  value: number;
  payloadStart: number;
}

function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  // Multiplication instead of shifts: lengths and offsets may exceed 2^31.
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('ONNX model truncated (varint)');
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new Error('ONNX model corrupt (varint too long)');
}

function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [key, afterKey] = readVarint(buf, pos);
    const no = Math.floor(key / 8);
    const wire = key % 8;
    let value = 0;
    let payloadStart = afterKey;
    if (wire === WIRE_VARINT) [value, pos] = readVarint(buf, afterKey);
    else if (wire === WIRE_I64) pos = afterKey + 8;
    else if (wire === WIRE_I32) pos = afterKey + 4;
    else if (wire === WIRE_LEN) {
      [value, payloadStart] = readVarint(buf, afterKey);
      pos = payloadStart + value;
    } else throw new Error(`ONNX model corrupt (wire type ${wire})`);
    if (pos > end) throw new Error('ONNX model truncated');
    yield { no, wire, start: fieldStart, end: pos, keyEnd: afterKey, value, payloadStart };
  }
}

function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Uint8Array.from(out);
}

const utf8 = new TextDecoder();

interface ExternalRef {
  location: string;
  offset: number;
  length?: number;
}

/** Reads the external_data entries (location/offset/length strings) of a TensorProto. */
function externalRef(buf: Uint8Array, start: number, end: number): ExternalRef | undefined {
  let external = false;
  const entries = new Map<string, string>();
  for (const f of fields(buf, start, end)) {
    if (f.no === TENSOR_DATA_LOCATION && f.wire === WIRE_VARINT) external = f.value === DATA_LOCATION_EXTERNAL;
    if (f.no === TENSOR_EXTERNAL_DATA && f.wire === WIRE_LEN) {
      let key = '';
      let value = '';
      for (const e of fields(buf, f.payloadStart, f.end)) {
        const text = utf8.decode(buf.subarray(e.payloadStart, e.end));
        if (e.no === 1) key = text;
        if (e.no === 2) value = text;
      }
      entries.set(key, value);
    }
  }
  if (!external) return undefined;
  const location = entries.get('location');
  if (!location) throw new Error('ONNX tensor marked external without a location');
  const length = entries.get('length');
  return { location, offset: Number(entries.get('offset') ?? 0), length: length === undefined ? undefined : Number(length) };
}

function tensorName(buf: Uint8Array, start: number, end: number): string {
  for (const f of fields(buf, start, end)) {
    if (f.no === TENSOR_NAME && f.wire === WIRE_LEN) return utf8.decode(buf.subarray(f.payloadStart, f.end));
  }
  return '(unnamed)';
}

function visitTensors(buf: Uint8Array, type: MessageType, start: number, end: number, visit: (start: number, end: number) => void): void {
  if (type === 'tensor') return visit(start, end);
  const children = CHILDREN[type];
  for (const f of fields(buf, start, end)) {
    const child = children[f.no];
    if (child && f.wire === WIRE_LEN) visitTensors(buf, child, f.payloadStart, f.end, visit);
  }
}

/** The distinct external-data file names a model refers to, in order of first use. */
export function externalDataLocations(model: Uint8Array): string[] {
  const seen = new Set<string>();
  visitTensors(model, 'model', 0, model.length, (s, e) => {
    const ref = externalRef(model, s, e);
    if (ref) seen.add(ref.location);
  });
  return [...seen];
}

/** External-data paths compare without a leading './' (onnxruntime-web does the same). */
function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/** Receives one rewritten message's parts in order. */
type Push = (part: Uint8Array) => void;

/**
 * A copy of the model in parts, with some TensorProtos rewritten: `tensor` pushes a tensor's
 * new encoding and returns true, or returns false to keep it as it is. `initializer` says
 * whether the tensor is one of the main graph's initializers. Every enclosing message's length
 * prefix is recomputed; every other byte is copied verbatim.
 */
function rewriteTensors(model: Uint8Array, tensor: (start: number, end: number, push: Push, initializer: boolean) => boolean): Uint8Array {
  // Rewrites one message into `out` and returns its new encoded length.
  const rewrite = (type: MessageType, start: number, end: number, out: Uint8Array[], initializer: boolean): number => {
    let length = 0;
    const push = (c: Uint8Array) => {
      out.push(c);
      length += c.length;
    };
    if (type === 'tensor') {
      if (!tensor(start, end, push, initializer)) push(model.subarray(start, end));
      return length;
    }
    const children = CHILDREN[type];
    for (const f of fields(model, start, end)) {
      const child = children[f.no];
      if (!child || f.wire !== WIRE_LEN) {
        push(model.subarray(f.start, f.end));
        continue;
      }
      const inner: Uint8Array[] = [];
      // `main` marks the model's graph, then that graph's initializers (not a subgraph's, not a function's).
      const main = type === 'model' ? child === 'graph' : type === 'graph' && f.no === GRAPH_INITIALIZER && initializer;
      const innerLength = rewrite(child, f.payloadStart, f.end, inner, main);
      push(model.subarray(f.start, f.keyEnd)); // the key
      push(encodeVarint(innerLength));
      for (const c of inner) push(c);
    }
    return length;
  };
  const chunks: Uint8Array[] = [];
  const total = rewrite('model', 0, model.length, chunks, false);
  const out = concatBytes(chunks);
  if (out.length !== total) throw new Error(`rewrote ${out.length} bytes where ${total} were expected`);
  return out;
}

/**
 * The model with every external tensor's bytes stored inline. Returns the model bytes
 * unchanged when nothing is external. Protobuf caps a message at 2 GiB, so this is for
 * models below that size (all MobileCLIP towers are).
 */
export function inlineExternalData(bytes: ModelBytes): Uint8Array {
  const { model } = bytes;
  if (externalDataLocations(model).length === 0) return model;
  const files = new Map((bytes.externalData ?? []).map((f) => [normalisePath(f.path), f.data] as const));
  return rewriteTensors(model, (start, end, push) => {
    const ref = externalRef(model, start, end);
    if (!ref) return false;
    const file = files.get(normalisePath(ref.location));
    if (!file) throw new Error(`External data file '${ref.location}' not provided (tensor ${tensorName(model, start, end)})`);
    const size = ref.length ?? file.length - ref.offset;
    if (ref.offset < 0 || size < 0 || ref.offset + size > file.length)
      throw new Error(`External data for tensor ${tensorName(model, start, end)} lies outside '${ref.location}'`);
    for (const f of fields(model, start, end)) {
      if (f.no === TENSOR_EXTERNAL_DATA || f.no === TENSOR_DATA_LOCATION || f.no === TENSOR_RAW_DATA) continue;
      push(model.subarray(f.start, f.end));
    }
    push(encodeVarint(TENSOR_RAW_DATA * 8 + WIRE_LEN));
    push(encodeVarint(size));
    push(file.subarray(ref.offset, ref.offset + size));
    return true;
  });
}

/** Initializers smaller than this stay inline: they cost the graph little and ORT a lookup each. */
const OUTLINE_MIN_BYTES = 1024;

const utf8Encode = new TextEncoder();

function stringField(no: number, text: string): Uint8Array[] {
  const bytes = utf8Encode.encode(text);
  return [encodeVarint(no * 8 + WIRE_LEN), encodeVarint(bytes.length), bytes];
}

/** One external_data entry (a StringStringEntryProto) of a TensorProto. */
function externalEntry(key: string, value: string): Uint8Array[] {
  const entry = concatBytes([...stringField(1, key), ...stringField(2, value)]);
  return [encodeVarint(TENSOR_EXTERNAL_DATA * 8 + WIRE_LEN), encodeVarint(entry.length), entry];
}

/**
 * The same model with its large initializers' weights outlined: the graph keeps each tensor's
 * name, type and shape, and refers for its raw bytes to their place in the ORIGINAL model bytes,
 * which come back as an external-data file. Nothing is copied but the graph's framing.
 *
 * Why: onnxruntime-web copies a model's bytes into its WASM heap and parses them there into a
 * model proto that holds every weight once more, before the session's own tensors are made;
 * external data is copied from JS straight into those tensors instead. The WASM heap never
 * shrinks, so each copy skipped while a session opens is memory the engine no longer holds.
 * Tensors that are already external keep their files (passed on as they are).
 */
export function outlineInitializers(bytes: ModelBytes): ModelBytes {
  const { model } = bytes;
  const taken = new Set((bytes.externalData ?? []).map((f) => normalisePath(f.path)));
  let location = 'outlined-initializers.bin';
  for (let i = 1; taken.has(location); i++) location = `outlined-initializers-${i}.bin`;
  let outlined = 0;
  const graph = rewriteTensors(model, (start, end, push, initializer) => {
    if (!initializer) return false;
    let raw: { payloadStart: number; end: number } | undefined;
    for (const f of fields(model, start, end)) {
      if (f.no === TENSOR_RAW_DATA && f.wire === WIRE_LEN) raw = f;
      // Already external (its raw_data, if any, is not what ORT reads): left as it is.
      if (f.no === TENSOR_DATA_LOCATION || f.no === TENSOR_EXTERNAL_DATA) return false;
    }
    if (!raw || raw.end - raw.payloadStart < OUTLINE_MIN_BYTES) return false;
    for (const f of fields(model, start, end)) if (f.no !== TENSOR_RAW_DATA) push(model.subarray(f.start, f.end));
    for (const part of externalEntry('location', location)) push(part);
    for (const part of externalEntry('offset', String(raw.payloadStart))) push(part);
    for (const part of externalEntry('length', String(raw.end - raw.payloadStart))) push(part);
    push(encodeVarint(TENSOR_DATA_LOCATION * 8 + WIRE_VARINT));
    push(encodeVarint(DATA_LOCATION_EXTERNAL));
    outlined++;
    return true;
  });
  if (outlined === 0) return bytes;
  return { model: graph, externalData: [...(bytes.externalData ?? []), { path: location, data: model }] };
}
