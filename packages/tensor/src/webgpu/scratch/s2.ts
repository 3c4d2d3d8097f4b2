import { createWebGpuBackend } from "../index.js";
const b = await createWebGpuBackend();
const s = b.alloc("f32", 6);
const mode = process.argv[2];
if (mode !== "nowrite") b.write(s, Float32Array.from([1, 2, 3, 4, 5, 6]));
for (let i = 0; i < 5; i++) {
const r = await b.read({ storage: s, shape: [6], strides: [1], offset: 0 });
console.error(Array.from(r));
}
b.dispose();
