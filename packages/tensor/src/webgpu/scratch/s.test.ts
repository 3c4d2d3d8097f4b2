import { it } from "vitest";
import "../../index.js";
import { createWebGpuBackend } from "../index.js";
import { compareCase, opCases } from "../../testing/index.js";
it("cases", async () => {
  const b = await createWebGpuBackend();
  const only = process.env.CASE;
  for (const c of opCases()) {
    if (only && !c.name.includes(only)) continue;
    for (let rep = 0; rep < 1; rep++) {
    const t0 = performance.now();
    try {
      const f = await compareCase(c, b);
      console.error(f.length ? `FAIL ${c.name}: ${JSON.stringify(f)}` : `ok ${c.name}`, (performance.now() - t0).toFixed(0));
    } catch (e) { console.error(`ERR ${c.name}: ${(e as Error).message}`); }
    }
  }
  b.dispose();
}, 600000);
