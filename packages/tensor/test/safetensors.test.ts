import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadSafetensors,
  parseSafetensors,
  saveSafetensors,
  serializeSafetensors,
  tensor,
} from "../src/index.js";

function build(header: object, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe("safetensors", () => {
  it("round-trips f32, bf16, f16, i32 and metadata through a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "st-"));
    const path = join(dir, "m.safetensors");
    const w = tensor([
      [1.5, -2.25],
      [3, 1e-3],
    ]);
    const ids = tensor(Int32Array.from([1, -2, 3]));
    await saveSafetensors(
      path,
      { w, ids, "w.half": w, "w.bf": w },
      {
        metadata: { format: "pt" },
        format: (name) => (name === "w.half" ? "f16" : name === "w.bf" ? "bf16" : "f32"),
      },
    );
    const { tensors, metadata } = await loadSafetensors(path);
    expect(metadata).toEqual({ format: "pt" });
    expect(tensors.w.toArray()).toEqual(w.toArray());
    expect(tensors.ids.dtype).toBe("i32");
    expect(tensors.ids.toArray()).toEqual([1, -2, 3]);
    expect(Array.from(tensors["w.half"].data())).toEqual([1.5, -2.25, 3, 0.0010004043579101562]);
    expect(Array.from(tensors["w.bf"].data())).toEqual([1.5, -2.25, 3, 0.00099945068359375]);
  });

  it("keeps f16 tensors as F16 and loads chosen float tensors as f16 storage", () => {
    const w = tensor([
      [1.5, -2.25],
      [3, 1e-3],
    ]);
    const bytes = serializeSafetensors({ "w.half": w.half(), w, bias: tensor([0.1, 0.2]) });
    const header = JSON.parse(
      new TextDecoder().decode(
        bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
      ),
    );
    expect(header["w.half"].dtype).toBe("F16");
    expect(header.w.dtype).toBe("F32");
    const seen: string[] = [];
    const { tensors } = parseSafetensors(bytes, {
      floatDType: (name, shape, stored) => {
        seen.push(`${name}:${shape.length}:${stored}`);
        return shape.length >= 2 ? "f16" : "f32";
      },
    });
    expect(seen.sort()).toEqual(["bias:1:F32", "w.half:2:F16", "w:2:F32"]);
    expect(tensors["w.half"].dtype).toBe("f16");
    expect(tensors.w.dtype).toBe("f16"); // F32 on disk, rounded to f16 on load
    expect(tensors.bias.dtype).toBe("f32");
    // 1e-3 is not an f16: both hold its nearest half, 0.0010004043579101562
    expect(Array.from(tensors.w.data())).toEqual(Array.from(tensors["w.half"].data()));
    expect(tensors.w.data()[3]).toBeCloseTo(1e-3, 6);
    expect(tensors.w.data()[3]).not.toBe(Math.fround(1e-3));
  });

  it("header is 8-byte aligned and offsets are contiguous", () => {
    const bytes = serializeSafetensors({ a: tensor([1, 2, 3]), b: tensor([4]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.a).toEqual({ dtype: "F32", shape: [3], data_offsets: [0, 12] });
    expect(header.b).toEqual({ dtype: "F32", shape: [1], data_offsets: [12, 16] });
  });

  it("reads I64 into i32 when it fits and refuses when it does not", () => {
    const ok = new BigInt64Array([5n, -7n]);
    const t = parseSafetensors(
      build({ x: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, new Uint8Array(ok.buffer)),
    ).tensors.x;
    expect(t.dtype).toBe("i32");
    expect(t.toArray()).toEqual([5, -7]);
    const big = new BigInt64Array([1n << 40n]);
    expect(() =>
      parseSafetensors(
        build(
          { x: { dtype: "I64", shape: [1], data_offsets: [0, 8] } },
          new Uint8Array(big.buffer),
        ),
      ),
    ).toThrow('tensor "x": I64 value 1099511627776 at 0 does not fit in i32');
  });

  it("rejects truncated and corrupt files with clear errors", () => {
    const good = serializeSafetensors({ a: tensor([1, 2, 3]) });
    expect(() => parseSafetensors(good.subarray(0, 5))).toThrow(
      "safetensors: truncated: 5 bytes, the 8-byte header length is missing",
    );
    expect(() => parseSafetensors(good.subarray(0, 20))).toThrow(
      /truncated: header says \d+ bytes but only 12 follow/,
    );
    expect(() => parseSafetensors(good.subarray(0, good.length - 4))).toThrow(
      'truncated: tensor "a" ends at byte 12 of the data section, which has 8',
    );
    const badJson = build({}, new Uint8Array());
    badJson[9] = 0x7b; // "{{"
    badJson[8] = 0x7b;
    expect(() => parseSafetensors(badJson)).toThrow(/corrupt header \(not valid UTF-8 JSON\)/);
    expect(() =>
      parseSafetensors(
        build({ a: { dtype: "F32", shape: [2], data_offsets: [0, 12] } }, new Uint8Array(12)),
      ),
    ).toThrow('tensor "a": 12 data bytes but F32 [2] needs 8');
    expect(() =>
      parseSafetensors(
        build({ a: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      ),
    ).toThrow(/unsupported dtype "Q4"/);
    expect(() =>
      parseSafetensors(
        build(
          {
            a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
            b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
          },
          new Uint8Array(12),
        ),
      ),
    ).toThrow('corrupt: tensors "a" and "b" overlap');
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 50n, true);
    expect(() => parseSafetensors(huge)).toThrow(/corrupt: header length \d+ exceeds/);
  });
});
