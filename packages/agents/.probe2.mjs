import { getQuickJS, shouldInterruptAfterDeadline } from "quickjs-emscripten";
const qjs = await getQuickJS();
function run(code, { mem = 32 << 20, stack = 512 << 10, ms = 500 } = {}) {
  const rt = qjs.newRuntime();
  rt.setMemoryLimit(mem); rt.setMaxStackSize(stack);
  rt.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + ms));
  const vm = rt.newContext();
  const t = Date.now();
  let out; let phase = "eval";
  try {
  const r = vm.evalCode(code, "snippet.js");
  phase = "dump";
  if (r.error) { out = { error: vm.dump(r.error).message }; r.error.dispose(); } else { out = { value: vm.dump(r.value) }; r.value.dispose(); }
  phase = "dispose";
  vm.dispose(); rt.dispose();
  } catch (e) { out = { host: String(e), phase } }
  console.log(process.argv[2], stack, JSON.stringify(code.slice(0, 40)), Date.now() - t, "ms", JSON.stringify(out).slice(0, 200));
}
const s = +process.argv[2];
run("function f(n){return f(n+1)+1} f(0)", {stack: s});
run("function f(n){try { return f(n+1)+1 } catch(e) { return f(n+1) } } f(0)", {stack: s});
run("let a=[]; for (let i=0;i<1e5;i++) a=[a]; 1", {stack: s});
run("let a=[]; for (let i=0;i<1e5;i++) a=[a]; JSON.stringify(a).length", {stack: s});
run("let a=[]; for (let i=0;i<1e5;i++) a=[a]; String(a).length", {stack: s});
run("1+1", {stack: s});
