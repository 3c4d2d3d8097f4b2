/** Checks edited data against the app's schema, so an edit about a cafe that does not exist gets a clear answer. */
import type { App } from "./app.js";
import type { AppData, Json } from "./data.js";

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataError";
  }
}

function members(data: AppData, set: string): string[] {
  if (set === "points")
    return Array.from({ length: (data.points as Json[]).length }, (_, i) => String(i));
  return (data[set] as Json[]).map((v) => String(v));
}

function checkNumber(v: unknown, where: string): void {
  if (typeof v !== "number" || Number.isNaN(v) || !Number.isFinite(v))
    throw new DataError(
      `${where} must be a finite number (1e100 for no limit), got ${JSON.stringify(v) ?? String(v)}`,
    );
}

/** Throws {@link DataError} naming the field and key that is wrong. `original` is the unedited data. */
export function validateData(app: App, data: AppData, original: AppData): void {
  for (const field of Object.keys(data))
    if (!(field in app.schema))
      throw new DataError(
        `unknown data field "${field}" for ${app.name} (fields: ${Object.keys(app.schema).join(", ")})`,
      );
  for (const [field, s] of Object.entries(app.schema)) {
    const v = data[field];
    if (v === undefined) throw new DataError(`data field "${field}" was removed`);
    if (s.readonly) {
      if (JSON.stringify(v) !== JSON.stringify(original[field]))
        throw new DataError(
          `"${field}" is fixed before the data edit point (the source builds it earlier), so changing it has no meaning; edit the parameters instead`,
        );
      continue;
    }
    switch (s.type) {
      case "number":
        checkNumber(v, field);
        break;
      case "list": {
        const o = original[field] as Json[];
        if (!Array.isArray(v) || v.length !== o.length)
          throw new DataError(
            `"${field}" must stay a list of ${o.length} entries (its index range is fixed)`,
          );
        v.forEach((e, i) => {
          if (Array.isArray(e)) {
            const oe = o[i] as Json[];
            if (e.length !== oe.length)
              throw new DataError(`"${field}[${i}]" must stay a list of ${oe.length} numbers`);
            for (const [j, x] of e.entries()) checkNumber(x, `${field}[${i}][${j}]`);
          } else checkNumber(e, `${field}[${i}]`);
        });
        break;
      }
      case "dict": {
        if (typeof v !== "object" || v === null || Array.isArray(v))
          throw new DataError(`"${field}" must stay an object keyed by ${s.keys!.join(",")}`);
        const sets = s.keys!.map((k) => members(data, k));
        for (const [k, x] of Object.entries(v)) {
          const parts = k.split(",");
          if (parts.length !== sets.length)
            throw new DataError(
              `${field} has key "${k}" with ${parts.length} part(s); its keys join ${s.keys!.join(", ")} with commas, e.g. "${Object.keys(original[field] as object)[0]}"`,
            );
          parts.forEach((p, i) => {
            if (!sets[i]!.includes(p))
              throw new DataError(
                `${field} has an unknown key "${k}": "${p}" is not one of the ${s.keys![i]} (${sets[i]!.join(", ")})`,
              );
          });
          checkNumber(x, `${field}["${k}"]`);
        }
        break;
      }
      case "tuples": {
        if (!Array.isArray(v))
          throw new DataError(`"${field}" must stay a list of [${s.keys!.join(", ")}] pairs`);
        const sets = s.keys!.map((k) => members(data, k));
        for (const t of v) {
          if (!Array.isArray(t) || t.length !== sets.length)
            throw new DataError(
              `every entry of "${field}" must be a [${s.keys!.join(", ")}] list, got ${JSON.stringify(t)}`,
            );
          t.forEach((p, i) => {
            if (!sets[i]!.includes(String(p)))
              throw new DataError(
                `${field} has an unknown entry ${JSON.stringify(t)}: "${p}" is not one of the ${s.keys![i]} (${sets[i]!.join(", ")})`,
              );
          });
        }
        break;
      }
      case "set":
        break;
    }
  }
}
