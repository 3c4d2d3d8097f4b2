import { selectAdapter } from "../adapter.js";
const mode = process.argv[2] ?? "";
let a: GPUAdapter;
if (mode.includes("sel")) a = (await selectAdapter()).adapter;
else { const { create, globals } = await import("webgpu" as string); Object.assign(globalThis, globals); a = (await create([]).requestAdapter())!; }
const desc: any = {};
if (mode.includes("lim")) { desc.requiredLimits = {}; for (const k of ["maxBufferSize","maxStorageBufferBindingSize","maxComputeWorkgroupStorageSize","maxComputeInvocationsPerWorkgroup","maxComputeWorkgroupSizeX","maxStorageBuffersPerShaderStage"]) desc.requiredLimits[k] = (a.limits as any)[k]; }
const device = await a.requestDevice(desc);
if (mode.includes("lost")) void device.lost.then(() => {});
const code = `@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { if (g.x < P[0]) { O[g.x] = f32(g.x) * 2.0; } }`;
const pipe = device.createComputePipeline({ layout: "auto", compute: { module: device.createShaderModule({ code }), entryPoint: "main" } });
for (let it = 0; it < 20; it++) {
  const out = device.createBuffer({ size: 256, usage: 128 | 4 | 8 });
  const p = device.createBuffer({ size: 256, usage: 128, mappedAtCreation: true });
  new Uint32Array(p.getMappedRange())[0] = 10;
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: p } }, { binding: 1, resource: { buffer: out } }] }));
  pass.dispatchWorkgroups(1);
  pass.end();
  const st = device.createBuffer({ size: 40, usage: 1 | 8 });
  enc.copyBufferToBuffer(out, 0, st, 0, 40);
  p.unmap();
  device.queue.submit([enc.finish()]);
  p.destroy();
  await st.mapAsync(1);
  const r = new Float32Array(st.getMappedRange().slice(0));
  st.unmap(); st.destroy(); out.destroy();
}
device.destroy();
console.log("done");
