/**
 * The Node built-ins this package's file APIs use, loaded when first called rather than
 * imported: a browser bundle of `@athanor/lm` carries no Node module, and everything that does
 * not touch files (models from bytes, generation, training, LoRA, tokenizers from JSON) runs
 * there. Same names and signatures as Node's; in a browser a file API throws an error saying
 * which in-memory form to use instead.
 */

import type * as fsTypes from "node:fs";
import type * as fspTypes from "node:fs/promises";
import type * as moduleTypes from "node:module";
import type * as pathTypes from "node:path";

type Builtins = {
  "node:fs": typeof fsTypes;
  "node:fs/promises": typeof fspTypes;
  "node:module": typeof moduleTypes;
  "node:path": typeof pathTypes;
};

function builtin<K extends keyof Builtins>(name: K): Builtins[K] {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.(name);
  if (!mod)
    throw new Error(
      `@athanor/lm: this call uses files (${name}), which needs Node ≥ 20.16; in a browser use the in-memory forms (modelFromBytes, Tokenizer.fromJSON, parseModelConfig)`,
    );
  return mod as Builtins[K];
}

const fs = () => builtin("node:fs");
const fsp = () => builtin("node:fs/promises");
const path = () => builtin("node:path");

export const existsSync: typeof fsTypes.existsSync = (p) => fs().existsSync(p);
export const readFileSync = ((...a: Parameters<typeof fsTypes.readFileSync>) =>
  fs().readFileSync(...a)) as typeof fsTypes.readFileSync;
export const writeFileSync: typeof fsTypes.writeFileSync = (...a) => fs().writeFileSync(...a);
export const readdirSync = ((...a: Parameters<typeof fsTypes.readdirSync>) =>
  fs().readdirSync(...a)) as typeof fsTypes.readdirSync;
export const readFile = ((...a: Parameters<typeof fspTypes.readFile>) =>
  fsp().readFile(...a)) as typeof fspTypes.readFile;
export const writeFile: typeof fspTypes.writeFile = (...a) => fsp().writeFile(...a);
export const mkdir = ((...a: Parameters<typeof fspTypes.mkdir>) =>
  fsp().mkdir(...a)) as typeof fspTypes.mkdir;
export const join: typeof pathTypes.join = (...a) => path().join(...a);
export const basename: typeof pathTypes.basename = (...a) => path().basename(...a);
export const dirname: typeof pathTypes.dirname = (...a) => path().dirname(...a);
export const createRequire: typeof moduleTypes.createRequire = (...a) =>
  builtin("node:module").createRequire(...a);
