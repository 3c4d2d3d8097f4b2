export { type BrownDocument, brownCorpusDir, brownDocuments, untag } from "./brown.js";
export { readTrainingFile, splitForEval, type TrainingData, tokenBlocks } from "./text-file.js";
