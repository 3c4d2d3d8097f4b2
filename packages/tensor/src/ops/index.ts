/** All tensor ops (functional form). */

export * from "./elementwise.js";
export * from "./linalg.js";
export * from "./nn.js";
export * from "./reduce.js";
export * from "./rope.js";
export * from "./shape.js";
