import type { AppData } from "../data.js";

/** Numbers at or above 1e100 are gurobipy's GRB.INFINITY. */
export function inf(v: number): number {
  return v >= 1e100 ? Infinity : v <= -1e100 ? -Infinity : v;
}

export function dict(data: AppData, field: string): Record<string, number> {
  return data[field] as Record<string, number>;
}

export function strings(data: AppData, field: string): string[] {
  return data[field] as string[];
}

export function numbers(data: AppData, field: string): number[] {
  return data[field] as number[];
}
