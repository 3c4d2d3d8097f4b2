// im2col / col2im and 2-D pooling over contiguous NCHW buffers, one (n, c) plane per task
// unit so threads split planes [p0, p1) without sharing outputs.
//
// Geometry block (i32 words): 0 N, 1 C, 2 H, 3 W, 4 OH, 5 OW, 6 kH, 7 kW, 8 sH, 9 sW,
// 10 pH, 11 pW, 12 dH, 13 dW.

function g(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

/** x [N, C, H, W] → cols [N, C·kH·kW, OH·OW], zero padding. */
export function im2col(x: usize, geo: usize, cols: usize, p0: i32, p1: i32): void {
  const c = g(geo, 1),
    h = g(geo, 2),
    wd = g(geo, 3),
    oh = g(geo, 4),
    ow = g(geo, 5);
  const kh = g(geo, 6),
    kw = g(geo, 7),
    sh = g(geo, 8),
    sw = g(geo, 9);
  const ph = g(geo, 10),
    pw = g(geo, 11),
    dh = g(geo, 12),
    dw = g(geo, 13);
  const plane = oh * ow;
  for (let p = p0; p < p1; p++) {
    const n = p / c;
    const ci = p % c;
    const src = x + ((<usize>(p * h * wd)) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const rowIdx = (ci * kh + ki) * kw + kj;
        const dst = cols + ((<usize>((n * c * kh * kw + rowIdx) * plane)) << 2);
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + ki * dh;
          const drow = dst + ((<usize>(oy * ow)) << 2);
          if (iy < 0 || iy >= h) {
            memory.fill(drow, 0, (<usize>ow) << 2);
            continue;
          }
          const srow = src + ((<usize>(iy * wd)) << 2);
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * sw - pw + kj * dw;
            store<f32>(
              drow + ((<usize>ox) << 2),
              ix >= 0 && ix < wd ? load<f32>(srow + ((<usize>ix) << 2)) : 0,
            );
          }
        }
      }
    }
  }
}

/** cols [N, C·kH·kW, OH·OW] → dx [N, C, H, W] (overwrites; overlapping patches add up). */
export function col2im(cols: usize, geo: usize, dx: usize, p0: i32, p1: i32): void {
  const c = g(geo, 1),
    h = g(geo, 2),
    wd = g(geo, 3),
    oh = g(geo, 4),
    ow = g(geo, 5);
  const kh = g(geo, 6),
    kw = g(geo, 7),
    sh = g(geo, 8),
    sw = g(geo, 9);
  const ph = g(geo, 10),
    pw = g(geo, 11),
    dh = g(geo, 12),
    dw = g(geo, 13);
  const plane = oh * ow;
  for (let p = p0; p < p1; p++) {
    const n = p / c;
    const ci = p % c;
    const dst = dx + ((<usize>(p * h * wd)) << 2);
    memory.fill(dst, 0, (<usize>(h * wd)) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const rowIdx = (ci * kh + ki) * kw + kj;
        const src = cols + ((<usize>((n * c * kh * kw + rowIdx) * plane)) << 2);
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + ki * dh;
          if (iy < 0 || iy >= h) continue;
          const drow = dst + ((<usize>(iy * wd)) << 2);
          const srow = src + ((<usize>(oy * ow)) << 2);
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * sw - pw + kj * dw;
            if (ix >= 0 && ix < wd) {
              const a = drow + ((<usize>ix) << 2);
              store<f32>(a, load<f32>(a) + load<f32>(srow + ((<usize>ox) << 2)));
            }
          }
        }
      }
    }
  }
}

/**
 * Max (isMax) or average pooling of planes [p0, p1). Max writes argmax (flat h·W + w, −1 when
 * the window is all padding; padding never wins); average divides by kH·kW (padding = 0).
 */
export function pool2d(
  isMax: bool,
  x: usize,
  geo: usize,
  out: usize,
  argmax: usize,
  p0: i32,
  p1: i32,
): void {
  const h = g(geo, 2),
    wd = g(geo, 3),
    oh = g(geo, 4),
    ow = g(geo, 5);
  const kh = g(geo, 6),
    kw = g(geo, 7),
    sh = g(geo, 8),
    sw = g(geo, 9);
  const ph = g(geo, 10),
    pw = g(geo, 11),
    dh = g(geo, 12),
    dw = g(geo, 13);
  const inv: f32 = 1 / <f32>(kh * kw);
  for (let p = p0; p < p1; p++) {
    const src = x + ((<usize>(p * h * wd)) << 2);
    const base = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best: f32 = -Infinity;
        let bestIdx = -1;
        let sum: f32 = 0;
        for (let ki = 0; ki < kh; ki++) {
          const iy = oy * sh - ph + ki * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kj = 0; kj < kw; kj++) {
            const ix = ox * sw - pw + kj * dw;
            if (ix < 0 || ix >= wd) continue;
            const v = load<f32>(src + ((<usize>(iy * wd + ix)) << 2));
            if (isMax) {
              if (bestIdx < 0 || v > best) {
                best = v;
                bestIdx = iy * wd + ix;
              }
            } else {
              sum += v;
            }
          }
        }
        const o = (<usize>(base + oy * ow + ox)) << 2;
        if (isMax) {
          store<f32>(out + o, bestIdx < 0 ? -Infinity : best);
          store<i32>(argmax + o, bestIdx);
        } else {
          store<f32>(out + o, sum * inv);
        }
      }
    }
  }
}

/** Pooling backward for planes [p0, p1), overwriting dx. */
export function pool2dBackward(
  isMax: bool,
  dy: usize,
  geo: usize,
  argmax: usize,
  dx: usize,
  p0: i32,
  p1: i32,
): void {
  const h = g(geo, 2),
    wd = g(geo, 3),
    oh = g(geo, 4),
    ow = g(geo, 5);
  const kh = g(geo, 6),
    kw = g(geo, 7),
    sh = g(geo, 8),
    sw = g(geo, 9);
  const ph = g(geo, 10),
    pw = g(geo, 11),
    dh = g(geo, 12),
    dw = g(geo, 13);
  const inv: f32 = 1 / <f32>(kh * kw);
  for (let p = p0; p < p1; p++) {
    const dst = dx + ((<usize>(p * h * wd)) << 2);
    memory.fill(dst, 0, (<usize>(h * wd)) << 2);
    const base = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = (<usize>(base + oy * ow + ox)) << 2;
        const gv = load<f32>(dy + o);
        if (isMax) {
          const idx = load<i32>(argmax + o);
          if (idx >= 0) {
            const a = dst + ((<usize>idx) << 2);
            store<f32>(a, load<f32>(a) + gv);
          }
          continue;
        }
        for (let ki = 0; ki < kh; ki++) {
          const iy = oy * sh - ph + ki * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kj = 0; kj < kw; kj++) {
            const ix = ox * sw - pw + kj * dw;
            if (ix < 0 || ix >= wd) continue;
            const a = dst + ((<usize>(iy * wd + ix)) << 2);
            store<f32>(a, load<f32>(a) + gv * inv);
          }
        }
      }
    }
  }
}
