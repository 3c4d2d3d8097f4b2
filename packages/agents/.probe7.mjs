import { newQuickJSWASMModule, RELEASE_SYNC, newVariant, getQuickJS } from "quickjs-emscripten";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const req = createRequire(import.meta.url);
const wasmPath = req.resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
let t = Date.now();
const wasmModule = await WebAssembly.compile(readFileSync(wasmPath));
console.log("compile", Date.now() - t);
const base = await getQuickJS();
console.log("initial memory", base.getWasmMemory().buffer.byteLength / 65536, "pages");
for (const limitMB of [8, 64]) {
  t = Date.now();
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 256 + limitMB * 16 });
  const qjs = await newQuickJSWASMModule(newVariant(RELEASE_SYNC, { wasmModule, wasmMemory: memory }));
  console.log("instantiate", Date.now() - t);
  const rt = qjs.newRuntime(); const vm = rt.newContext();
  t = Date.now();
  const r = vm.evalCode("var a = []; for (;;) a.push(new Float64Array(1e5));");
  console.log(limitMB, Date.now() - t, "ms", memory.buffer.byteLength / 1e6, "MB", r.error ? vm.dump(r.error).message : "");
  r.error?.dispose();
  const r2 = vm.evalCode("a = null; var b = []; for (;;) b.push({x: b.length});");
  console.log(limitMB, Date.now() - t, "ms", memory.buffer.byteLength / 1e6, "MB", r2.error ? vm.dump(r2.error).message : "");
  r2.error?.dispose();
  vm.dispose(); rt.dispose();
}
