/** Wires the ops the autograd engine needs (avoids an import cycle). */

import { engineOps } from "./autograd.js";
import { full } from "./creation.js";
import { add } from "./ops/elementwise.js";
import { contiguous } from "./ops/shape.js";

engineOps.add = add;
engineOps.contiguous = (t) =>
  t.isContiguous() && t.offset === 0 ? t.alias() : contiguous(t).alias();
engineOps.onesLike = (t) => full(t.shape, 1, { dtype: t.dtype, backend: t.backend });
engineOps.zeros = (shape, like) => full(shape, 0, { dtype: like.dtype, backend: like.backend });
