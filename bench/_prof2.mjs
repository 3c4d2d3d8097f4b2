import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
import * as T from "@athanor/tensor";
import { buildModel } from "./_gpt2.mjs";
const gpu = await T.createWebGpuBackend();
const c = { layers: 2, width: 128, heads: 4, context: 64, batch: 2, vocab: 1024 };
const model = buildModel(T, c, { rng: new T.Rng(1), backend: gpu });
const opt = new T.AdamW(model.params, { lr: 3e-4, weightDecay: 0.1 });
const rng = new T.Rng(2);
const n = c.batch * c.context;
const mk = () => T.tensor(Int32Array.from({ length: n }, () => rng.int(c.vocab)), [c.batch, c.context], { dtype: "i32", backend: gpu });
const ids = mk(), tg = mk();
let rec = 0;
const step = async (timed) => {
  T.startScope();
  try {
    const t0 = performance.now();
    const loss = T.tidy(() => model.forward(ids, tg));
    loss.backward(); opt.step(); opt.zeroGrad();
    const r = loss.dataAsync();
    if (timed) rec += performance.now() - t0;
    await r;
  } finally { T.endScope(); }
};
for (let i = 0; i < 3; i++) await step(false);
const slow = new Map();
const wrap = (obj, name, label) => { const o = obj[name].bind(obj); obj[name] = (...a) => { const t = performance.now(); const r = o(...a); const dt = performance.now() - t; const e = slow.get(label) ?? { n: 0, ms: 0, max: 0 }; e.n++; e.ms += dt; e.max = Math.max(e.max, dt); slow.set(label, e); return r; }; };
const dev = gpu.rt.device;
wrap(dev, "createCommandEncoder", "dev.createCommandEncoder");
wrap(dev, "createBindGroup", "dev.createBindGroup");
wrap(dev, "createBuffer", "dev.createBuffer");
wrap(dev.queue, "submit", "queue.submit");
wrap(dev.queue, "writeBuffer", "queue.writeBuffer");
const origEnc = dev.createCommandEncoder;
dev.createCommandEncoder = (...a) => { const enc = origEnc(...a); wrap(enc, "beginComputePass", "enc.beginComputePass"); wrap(enc, "finish", "enc.finish"); wrap(enc, "copyBufferToBuffer", "enc.copyBufferToBuffer"); return enc; };
const orig = gpu.rt.dispatch.bind(gpu.rt);
gpu.rt.dispatch = (d) => { const t = performance.now(); orig(d); const dt = performance.now() - t; const e = slow.get(d.key) ?? { n: 0, ms: 0, max: 0 }; e.n++; e.ms += dt; e.max = Math.max(e.max, dt); slow.set(d.key, e); };
for (const name of ["flush", "write", "readBytes", "acquire"]) { const o = gpu.rt[name].bind(gpu.rt); gpu.rt[name] = (...a) => { const t = performance.now(); const r = o(...a); const dt = performance.now() - t; const e = slow.get("rt." + name) ?? { n: 0, ms: 0, max: 0 }; e.n++; e.ms += dt; e.max = Math.max(e.max, dt); slow.set("rt." + name, e); return r; }; }
const s = new Session(); s.connect();
await s.post("Profiler.enable"); await s.post("Profiler.setSamplingInterval", { interval: 100 }); await s.post("Profiler.start");
const N = Number(process.argv[2] ?? 10);
for (let i = 0; i < N; i++) await step(true);
const { profile } = await s.post("Profiler.stop");
writeFileSync("/tmp/train.cpuprofile", JSON.stringify(profile));
console.log([...slow].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15).map(([k, e]) => `${(e.ms / N).toFixed(2)} ms/step ${e.n / N}x max ${e.max.toFixed(2)} ${k.slice(0, 70)}`).join("\n"));
console.log("record ms/step", (rec / N).toFixed(2), "kernels", gpu.stats().dispatches);
gpu.dispose();
