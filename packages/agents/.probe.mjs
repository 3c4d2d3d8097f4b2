import { getQuickJS, shouldInterruptAfterDeadline } from "quickjs-emscripten";
const qjs = await getQuickJS();
function run(code, { mem = 32 << 20, stack = 512 << 10, ms = 500 } = {}) {
  const rt = qjs.newRuntime();
  rt.setMemoryLimit(mem); rt.setMaxStackSize(stack);
  rt.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + ms));
  const vm = rt.newContext();
  const t = Date.now();
  let out;
  try {
  const r = vm.evalCode(code, "snippet.js");
  if (r.error) { out = { error: vm.dump(r.error) }; r.error.dispose(); } else { out = { value: vm.dump(r.value) }; r.value.dispose(); }
  vm.dispose(); rt.dispose();
  } catch (e) { out = { host: String(e) } }
  console.log(stack, JSON.stringify(code.slice(0, 40)), Date.now() - t, "ms", JSON.stringify(out).slice(0, 300));
}
const s = +process.argv[2];
run("function f(n){return f(n+1)+1} f(0)", {stack: s});
run("function f(n){try { return f(n+1)+1 } catch(e) { return f(n+1) } } f(0)", {stack: s});
run("function f(n){return [1].map(() => JSON.parse(JSON.stringify({a:[f(n+1)]})))} f(0)", {stack: s});
run("const o={}; o.toString = function(){ return String(this) }; String(o)", {stack: s});
run("let a=[]; for (let i=0;i<1e5;i++) a=[a]; JSON.stringify(a).length", {stack: s});
run("let n=0; function f(){n++; f()} try{f()}catch(e){} n", {stack: s});
run("\nlet x = 1;\nthrow new Error('boom')");
run("let x = 1;\nlet = = 2");
run("let x = 1;\n  null.foo");
run("1+1; function g(){}; 42");
run("var result = 5; 7");
run("Promise.resolve(3)");
run("throw 5");
