/** The pipeline as a benchmark edit source: each question goes through writer, safeguard and debug rounds. */
import { getApp } from "../apps/index.js";
import type { EditSource } from "../bench.js";
import { OptiGuide, type OptiGuideOptions } from "./optiguide.js";

/**
 * An `EditSource` backed by the agent pipeline (one `OptiGuide` per app, baselines cached). It
 * returns the outcome the pipeline already computed, so the benchmark does not solve again. A
 * question the pipeline refuses or fails on throws, so the benchmark scores it wrong and reports
 * why.
 */
export function pipelineSource(options: OptiGuideOptions): EditSource {
  const guides = new Map<string, OptiGuide>();
  return async (app, q) => {
    let og = guides.get(app);
    if (!og) {
      og = new OptiGuide(getApp(app), { ...options, interpreter: undefined });
      guides.set(app, og);
    }
    const a = await og.ask(q.QUESTION);
    if (!a.edit || !a.outcome || a.status !== "answered") {
      throw new Error(`${a.status}: ${a.explanation}`);
    }
    return { edit: a.edit, outcome: a.outcome };
  };
}
