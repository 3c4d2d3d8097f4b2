export { type LoraAdapter, type LoraConfig, type LoraWeights, loraScale } from "./adapter.js";
export {
  adapterParameters,
  type CreateAdapterOptions,
  createAdapter,
  disposeAdapter,
  isTargeted,
  type LoadAdapterOptions,
  loadAdapter,
  parseLoraConfig,
  saveAdapter,
} from "./peft.js";
