/**
 * @athanor/tensor for browsers (the package's "browser" export condition): the same API as
 * the Node entry without the cpu backend, whose WebAssembly threads and BLAS addon need Node.
 * The default backend is the reference one until `setBackend(await createWebGpuBackend())`,
 * which finds `navigator.gpu`. `saveSafetensors` / `loadSafetensors` read and write files
 * and need Node; `serializeSafetensorsAsync` / `parseSafetensors` work on bytes anywhere.
 */

export * from "./api.js";
