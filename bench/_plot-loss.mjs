#!/usr/bin/env node
// Draws the loss curve of an `athanor lm train` run (its train_log.jsonl) as a small SVG:
// training loss per step (grey), its 10-step moving average (blue) and evaluation loss (red).
//
//   node bench/_plot-loss.mjs RUN/train_log.jsonl OUT.svg [title]
import { readFileSync, writeFileSync } from "node:fs";

const [logFile, outFile, title = "loss"] = process.argv.slice(2);
if (!logFile || !outFile) {
  console.error("usage: node bench/_plot-loss.mjs train_log.jsonl out.svg [title]");
  process.exit(1);
}
const rows = readFileSync(logFile, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const train = rows.filter((r) => r.loss !== undefined).map((r) => [r.step, r.loss]);
const evals = rows.filter((r) => r.evalLoss !== undefined).map((r) => [r.step, r.evalLoss]);
const avg = train.map(([s], i) => {
  const w = train.slice(Math.max(0, i - 9), i + 1);
  return [s, w.reduce((a, [, l]) => a + l, 0) / w.length];
});
const W = 640;
const H = 360;
const m = { l: 50, r: 20, t: 30, b: 40 };
const maxStep = Math.max(...train.map(([s]) => s));
const ys = [...train, ...evals].map(([, l]) => l);
const lo = Math.floor(Math.min(...ys));
const hi = Math.ceil(Math.max(...ys));
const x = (s) => m.l + ((W - m.l - m.r) * s) / maxStep;
const y = (l) => m.t + ((H - m.t - m.b) * (hi - l)) / (hi - lo);
const path = (pts) =>
  pts.map(([s, l], i) => `${i ? "L" : "M"}${x(s).toFixed(1)},${y(l).toFixed(1)}`).join("");
const parts = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${title}</text>`,
];
for (let l = lo; l <= hi; l++)
  parts.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${y(l)}" y2="${y(l)}" stroke="#eee"/>`,
    `<text x="${m.l - 6}" y="${y(l) + 4}" text-anchor="end">${l}</text>`,
  );
const tick = Math.max(1, Math.round(maxStep / 6 / 10) * 10);
for (let s = 0; s <= maxStep; s += tick)
  parts.push(`<text x="${x(s)}" y="${H - m.b + 16}" text-anchor="middle">${s}</text>`);
parts.push(
  `<text x="${W / 2}" y="${H - 6}" text-anchor="middle">optimizer step</text>`,
  `<path d="${path(train)}" fill="none" stroke="#bbb" stroke-width="1"/>`,
  `<path d="${path(avg)}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
  `<path d="${path(evals)}" fill="none" stroke="#d62728" stroke-width="2"/>`,
  ...evals.map(([s, l]) => `<circle cx="${x(s)}" cy="${y(l)}" r="3" fill="#d62728"/>`),
  `<text x="${W - m.r - 150}" y="${m.t + 14}" fill="#1f77b4">train (10-step mean)</text>`,
  `<text x="${W - m.r - 150}" y="${m.t + 30}" fill="#d62728">validation</text>`,
  "</svg>",
);
writeFileSync(outFile, `${parts.join("\n")}\n`);
console.log(`wrote ${outFile}: ${train.length} steps, ${evals.length} evaluations`);
