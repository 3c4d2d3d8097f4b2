// Entry point of the cpu backend's WebAssembly kernels (compiled by `npm run build:assets`).
// Memory is imported and shared: the JavaScript side allocates every buffer in it and passes
// byte pointers, so worker threads run the same kernels on the same tensors without copies.

export {
  attentionBackward,
  attentionForward,
  attentionProbsRange,
  attentionScoresGrad,
  attentionScoresGradRange,
  attentionScratchBytes,
  scoresToProbs,
} from "./attention";
export { col2im, im2col, pool2d, pool2dBackward } from "./conv";
export { ndRun } from "./elementwise";
export { sgemm, sgemmList, sgemmScratchBytes } from "./gemm";
export { sgemvCols, sgemvRows } from "./matvec";
export {
  adamw,
  addInto,
  crossEntropyBackwardRows,
  crossEntropyRows,
  indexAddRows,
  indexSelectRows,
  normBackwardRows,
  normRows,
  sgd,
  softmaxBackwardRows,
  softmaxRows,
} from "./rows";

/** First byte the JavaScript allocator may use (after the module's static data). */
export function heapBase(): usize {
  return __heap_base;
}
