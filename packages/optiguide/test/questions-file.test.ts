import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDefaultSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchmark } from "../src/index.js";

afterAll(() => closeDefaultSolver());

describe("--questions: any file in the benchmark's format", () => {
  it("scores each question and reports our conflict set beside Gurobi's", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "optiguide-")), "mine.json");
    const questions = [
      {
        QUESTION: "What if supplier2 could ship only half?",
        "DATA CODE": 'capacity_in_supplier["supplier2"] = capacity_in_supplier["supplier2"]/2',
        TYPE: "supplier-capacity",
        "GT EXEC RESULT": 2495.0,
      },
      {
        QUESTION: "A wrong ground truth",
        "DATA CODE": 'capacity_in_supplier["supplier2"] = capacity_in_supplier["supplier2"]/2',
        TYPE: "supplier-capacity",
        "GT EXEC RESULT": 2500.0,
      },
      {
        QUESTION: "What if supplier1 could ship only half?",
        "DATA CODE": 'capacity_in_supplier["supplier1"] = capacity_in_supplier["supplier1"]/2',
        TYPE: "supplier-capacity",
        "GT EXEC RESULT":
          "infeasible\nConflicting Constraints:\n['flow_roastery1', 'supply_supplier1']",
      },
    ];
    writeFileSync(
      file,
      JSON.stringify({ questions, code_path: "/OptiGuide/benchmark/application/coffee.py" }),
    );
    const r = await runBenchmark({ apps: [], questionsFile: file, concurrency: 2, memo: true });
    expect(r.results.map((q) => q.correct)).toEqual([true, false, true]);
    expect(r.apps).toHaveLength(1);
    expect(r.apps[0]).toMatchObject({ app: "coffee", n: 3, correct: 2 });
    expect(r.types["coffee/supplier-capacity"]).toMatchObject({ n: 3, correct: 2 });
    const inf = r.results[2]!;
    expect(inf.expected).toEqual({
      status: "infeasible",
      conflict: ["flow_roastery1", "supply_supplier1"],
    });
    expect(inf.conflict!.length).toBeGreaterThan(0);
  });
});
