import { runSandboxed } from "./src/code/sandbox.ts";
for (const [code, mem] of [
  ["var a = []; try { for (;;) { a.push('x'.repeat(1e5) + a.length); if (a.length % 10 == 0) console.log(a.length, Date.now()) } } catch (e) { console.log('caught', e.message, a.length) }", 8<<20],
  ["var a = []; for (;;) { a.push(new Float64Array(1e5)); }", 8<<20],
  ["var a = []; for (;;) { a.push(Array.from({length: 1e4}, (_, i) => i)); }", 8<<20],
  ["var a = []; for (;;) { a.push({x: a.length, y: 'k' + a.length}); }", 8<<20],
] as const) {
  const t = Date.now();
  const r = await runSandboxed(code, { memoryBytes: mem, timeoutMs: 5000 });
  console.log(Date.now() - t, "ms", code.slice(0,60), r.output.split("\n").slice(0,4).join("|"), JSON.stringify(r.error?.message));
}
