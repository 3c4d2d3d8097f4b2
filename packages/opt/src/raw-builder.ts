/** Accumulates columns and rows by name while a file is read, then builds a `Model`. */

import { type CompiledModel, Model, type ObjectiveSense } from "./model.js";

export class RawBuilder {
  sense: ObjectiveSense = "min";
  offset = 0;
  readonly colNames: string[] = [];
  readonly colIndex = new Map<string, number>();
  readonly cost: number[] = [];
  readonly lower: number[] = [];
  readonly upper: number[] = [];
  readonly integer: boolean[] = [];
  readonly rowNames: string[] = [];
  readonly rowIndex = new Map<string, number>();
  readonly rowLower: number[] = [];
  readonly rowUpper: number[] = [];
  readonly rowCols: number[][] = [];
  readonly rowVals: number[][] = [];

  constructor(readonly name: string) {}

  col(name: string): number {
    let j = this.colIndex.get(name);
    if (j === undefined) {
      j = this.colNames.length;
      this.colIndex.set(name, j);
      this.colNames.push(name);
      this.cost.push(0);
      this.lower.push(0);
      this.upper.push(Infinity);
      this.integer.push(false);
    }
    return j;
  }

  /** Adds a row; returns false when the name is taken. */
  row(name: string, lower: number, upper: number): number | undefined {
    if (this.rowIndex.has(name)) return undefined;
    const i = this.rowNames.length;
    this.rowIndex.set(name, i);
    this.rowNames.push(name);
    this.rowLower.push(lower);
    this.rowUpper.push(upper);
    this.rowCols.push([]);
    this.rowVals.push([]);
    return i;
  }

  /** Adds `v` to the coefficient of column `j` in row `i`. */
  entry(i: number, j: number, v: number): void {
    const cols = this.rowCols[i]!;
    const k = cols.indexOf(j);
    if (k >= 0) this.rowVals[i]![k]! += v;
    else {
      cols.push(j);
      this.rowVals[i]!.push(v);
    }
  }

  build(): Model {
    const starts = new Int32Array(this.rowNames.length + 1);
    let nnz = 0;
    this.rowCols.forEach((c, i) => {
      nnz += c.length;
      starts[i + 1] = nnz;
    });
    const indices = new Int32Array(nnz);
    const values = new Float64Array(nnz);
    let p = 0;
    this.rowCols.forEach((c, i) => {
      c.forEach((j, k) => {
        indices[p] = j;
        values[p++] = this.rowVals[i]![k]!;
      });
    });
    const data: CompiledModel = {
      name: this.name,
      sense: this.sense,
      offset: this.offset,
      colNames: this.colNames,
      colCost: Float64Array.from(this.cost),
      colLower: Float64Array.from(this.lower),
      colUpper: Float64Array.from(this.upper),
      integrality: this.integer.some((b) => b)
        ? Int32Array.from(this.integer, (b) => (b ? 1 : 0))
        : undefined,
      rowNames: this.rowNames,
      rowLower: Float64Array.from(this.rowLower),
      rowUpper: Float64Array.from(this.rowUpper),
      starts,
      indices,
      values,
    };
    return Model.fromCompiled(data);
  }
}
