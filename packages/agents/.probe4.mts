import { runSandboxed } from "./src/code/sandbox.ts";
import { DEBUG_SYNC, newQuickJSWASMModule } from "quickjs-emscripten";
for (const [code, mem] of [["const a = []; for (;;) a.push(new Array(1e5).fill(a.length));", 8<<20], ["new Array(1e9).fill(0)", 16<<20], ["const a = []; for (;;) a.push('x'.repeat(1e5) + a.length);", 8<<20], ["let s = 'x'; for (;;) s = s + s;", 8<<20]] as const) {
  const t = Date.now();
  const r = await runSandboxed(code, { memoryBytes: mem, timeoutMs: 20000 });
  console.log(Date.now() - t, "ms", code, JSON.stringify(r.error).slice(0, 150));
}
const debug = await newQuickJSWASMModule(DEBUG_SYNC);
let t = Date.now();
for (let i = 0; i < 5; i++) await runSandboxed("const o = { a: input.n, list: [] }; for (let i = 0; i < 100; i++) o.list.push({ i }); o", { module: debug, input: { n: 1 } });
console.log("debug 5 runs", Date.now() - t);
t = Date.now();
for (let i = 0; i < 5; i++) await runSandboxed("1", { module: debug });
console.log("debug 5 trivial runs", Date.now() - t);
t = Date.now();
for (let i = 0; i < 300; i++) await runSandboxed("const o = { a: input.n, list: [] }; for (let i = 0; i < 100; i++) o.list.push({ i }); o", { input: { n: 1 } });
console.log("release 300 runs", Date.now() - t);
