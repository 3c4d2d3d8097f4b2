export {
  type LoadedModel,
  type LoadModelOptions,
  loadModel,
  loadModelConfig,
  loadModelWithReport,
  type ModelBytes,
  modelFromBytes,
  saveModel,
} from "./model-io.js";
export {
  CheckpointError,
  type ReadOptions,
  readSafetensorsFile,
  readWeights,
  type WriteWeightsOptions,
  writeWeights,
} from "./weights.js";
