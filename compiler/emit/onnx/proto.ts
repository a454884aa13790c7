// The little of Protocol Buffers' wire format an ONNX file needs (protobuf.dev, "Encoding"):
// each field is a tag (field number << 3 | wire type) then a varint (0), 8 bytes (1), a
// length-prefixed byte string or message (2) or 4 bytes (5). Negative int64s are ten-byte
// two's-complement varints. Repeated scalars are written unpacked, which every proto2 and proto3
// parser accepts.

const utf8 = new TextEncoder();

/** One message being written; `encode()` is its bytes. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.push(varint(BigInt((field << 3) | wire)));
  }

  /** int32, int64 and enums (wire type 0). */
  int(field: number, v: number): this {
    if (!Number.isSafeInteger(v)) throw new Error(`internal: protobuf int field ${field} given ${v}`);
    return this.tag(field, 0).push(varint(BigInt.asUintN(64, BigInt(v))));
  }

  ints(field: number, vs: readonly number[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }

  /** float (wire type 5). */
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).push(b);
  }

  blob(field: number, b: Uint8Array): this {
    return this.tag(field, 2).push(varint(BigInt(b.length))).push(b);
  }

  string(field: number, s: string): this {
    return this.blob(field, utf8.encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.blob(field, m.encode());
  }

  /** The message's bytes. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function varint(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  do {
    let byte = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) byte |= 0x80;
    out.push(byte);
  } while (x !== 0n);
  return Uint8Array.from(out);
}
