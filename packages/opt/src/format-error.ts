/** A syntax or content error in an LP or MPS file, with the line where it was found. */
export class ModelFormatError extends Error {
  override readonly name = "ModelFormatError";

  constructor(
    /** `lp` or `mps`. */
    readonly format: "lp" | "mps",
    /** 1-based line number. */
    readonly line: number,
    /** What was wrong, without the location. */
    readonly detail: string,
    /** File name used in the message (`<input>` for text). */
    readonly source = "<input>",
  ) {
    super(`${source}:${line}: ${detail} (${format.toUpperCase()} format)`);
  }
}

/** Formats a finite or infinite number the way LP and MPS files spell it. */
export function fmtNum(v: number): string {
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  return String(v);
}

/** Parses a number as LP and MPS files spell it (`1e3`, `-2.5`, `inf`, `infinity`, `1e+30`). */
export function parseNum(tok: string): number | undefined {
  const t = tok.toLowerCase();
  if (t === "inf" || t === "+inf" || t === "infinity" || t === "+infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
  const v = Number(t);
  if (v >= 1e30) return Infinity;
  if (v <= -1e30) return -Infinity;
  return v;
}

/** A model name from a file path (`dir/foo.lp` gives `foo`); `model` for text without a file. */
export function modelNameOf(source: string, ext: RegExp): string {
  if (source === "<input>") return "model";
  return source.replace(/^.*[\\/]/, "").replace(ext, "") || "model";
}
