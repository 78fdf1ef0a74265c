// Minimal ONNX ModelProto encoder: just enough of onnx.proto to write small,
// hand-built graphs (the test fixture model). Hand-written protobuf rather than
// protobufjs so the output bytes are fully determined by this file: fields are
// always emitted in the same order, which keeps generated models byte-identical
// across runs and machines.
//
// Field numbers follow onnx/onnx.proto (IR version 8).

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

export type AttributeValue =
  | { i: number | bigint }
  | { f: number }
  | { s: string }
  | { ints: readonly (number | bigint)[] }
  | { floats: readonly number[] };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

export type TensorData = Float32Array | BigInt64Array;

export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  data: TensorData;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** A number is a fixed size; a string is a named dynamic dimension (dim_param). */
  shape: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  docString?: string;
}

export interface OnnxModel {
  irVersion: number;
  /** Version of the default ('ai.onnx') operator set. */
  opsetVersion: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
  graph: OnnxGraph;
}

// Protobuf wire types.
const VARINT = 0;
const FIXED32 = 5;
const LEN = 2;

const utf8 = new TextEncoder();

/** Accumulates protobuf fields of one message. */
class MessageWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private tag(field: number, wire: number): void {
    this.push(varint(BigInt((field << 3) | wire)));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, VARINT);
    this.push(varint(BigInt(value)));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LEN);
    this.push(varint(BigInt(value.length)));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Repeated scalar integers, packed (the proto3 default, accepted by every ONNX reader). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new MessageWriter();
    for (const v of values) inner.push(varint(BigInt(v)));
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    values.forEach((v, k) => view.setFloat32(k * 4, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** Base-128 varint; negative int64 values become their 10-byte two's complement, as protobuf requires. */
function varint(value: bigint): Uint8Array {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function encodeAttribute(name: string, value: AttributeValue): Uint8Array {
  const w = new MessageWriter().string(1, name);
  if ('i' in value) w.int(3, value.i).int(20, ATTR_INT);
  else if ('f' in value) w.float(2, value.f).int(20, ATTR_FLOAT);
  else if ('s' in value) w.string(4, value.s).int(20, ATTR_STRING);
  else if ('ints' in value) w.packedInts(8, value.ints).int(20, ATTR_INTS);
  else w.packedFloats(7, value.floats).int(20, ATTR_FLOATS);
  return w.finish();
}

function encodeNode(node: OnnxNode): Uint8Array {
  const w = new MessageWriter();
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  if (node.name) w.string(3, node.name);
  w.string(4, node.opType);
  // Sorted so the bytes never depend on object key order at the call site.
  for (const key of Object.keys(node.attributes ?? {}).sort()) {
    w.bytes(5, encodeAttribute(key, node.attributes![key]));
  }
  return w.finish();
}

/** Tensor payloads go into raw_data, which ONNX defines as little-endian regardless of host. */
function encodeTensor(t: OnnxTensor): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) {
    throw new Error(`tensor ${t.name}: dims ${t.dims.join('x')} need ${count} values, got ${t.data.length}`);
  }
  let dataType: number;
  let raw: Uint8Array;
  if (t.data instanceof Float32Array) {
    dataType = DataType.FLOAT;
    raw = new Uint8Array(t.data.length * 4);
    const view = new DataView(raw.buffer);
    for (let k = 0; k < t.data.length; k++) view.setFloat32(k * 4, t.data[k], true);
  } else {
    dataType = DataType.INT64;
    raw = new Uint8Array(t.data.length * 8);
    const view = new DataView(raw.buffer);
    for (let k = 0; k < t.data.length; k++) view.setBigInt64(k * 8, t.data[k], true);
  }
  return new MessageWriter()
    .packedInts(1, t.dims)
    .int(2, dataType)
    .string(8, t.name)
    .bytes(9, raw)
    .finish();
}

function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const shape = new MessageWriter();
  for (const d of v.shape) {
    const dim = new MessageWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.bytes(1, dim.finish());
  }
  const tensorType = new MessageWriter().int(1, v.elemType).bytes(2, shape.finish());
  const type = new MessageWriter().bytes(1, tensorType.finish());
  return new MessageWriter().string(1, v.name).bytes(2, type.finish()).finish();
}

function encodeGraph(g: OnnxGraph): Uint8Array {
  const w = new MessageWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  if (g.docString) w.string(10, g.docString);
  for (const i of g.inputs) w.bytes(11, encodeValueInfo(i));
  for (const o of g.outputs) w.bytes(12, encodeValueInfo(o));
  return w.finish();
}

/** Serialises a model to the bytes of an .onnx file. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new MessageWriter().int(1, m.irVersion).string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.bytes(7, encodeGraph(m.graph));
  // Empty domain means the default 'ai.onnx' operator set.
  w.bytes(8, new MessageWriter().string(1, '').int(2, m.opsetVersion).finish());
  for (const key of Object.keys(m.metadata ?? {}).sort()) {
    w.bytes(14, new MessageWriter().string(1, key).string(2, m.metadata![key]).finish());
  }
  return w.finish();
}
