/**
 * An HTML report of a VBP analysis with inline SVG: the heuristic's bins next to the optimal
 * bins for the worst input (each item keeps its colour, so the pairs the heuristic makes are
 * visible), the gap of every sample against the input's total size, and the regions.
 */
import type { VbpAnalysis } from "./analyze.js";
import type { BinSummary } from "./explain.js";
import type { Item } from "./packing.js";

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const fmt = (x: number | undefined) => (x === undefined ? "–" : (+x.toFixed(3)).toString());
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
const color = (i: number) => (i < COLORS.length ? COLORS[i]! : `hsl(${(i * 47) % 360} 60% 50%)`);

/** Bins as groups of d stacked bars (one per dimension), height 1 = capacity. */
export function binsSvg(
  title: string,
  items: readonly Item[],
  bins: readonly BinSummary[],
): string {
  const d = items[0]?.length ?? 1;
  const barW = 14;
  const groupW = d * barW + 14;
  const H = 200;
  const top = 28;
  const W = Math.max(200, 20 + bins.length * groupW);
  const parts: string[] = [
    `<text x="10" y="16" font-size="13">${esc(title)}</text>`,
    `<line x1="6" y1="${top}" x2="${W - 4}" y2="${top}" stroke="#999" stroke-dasharray="4 3"/>`,
  ];
  bins.forEach((bin, b) => {
    const gx = 12 + b * groupW;
    for (let j = 0; j < d; j++) {
      let y = top + H;
      const x = gx + j * barW;
      parts.push(
        `<rect x="${x}" y="${top}" width="${barW - 2}" height="${H}" fill="#f3f3f3" stroke="#ccc"/>`,
      );
      for (const i of bin.items) {
        const h = items[i]![j]! * H;
        y -= h;
        parts.push(
          `<rect x="${x}" y="${y.toFixed(1)}" width="${barW - 2}" height="${h.toFixed(1)}" fill="${color(i)}" stroke="#fff"><title>item ${i + 1} ${esc(JSON.stringify(items[i]))}, dimension ${j + 1}</title></rect>`,
        );
      }
    }
    parts.push(
      `<text x="${gx + (d * barW) / 2 - 4}" y="${top + H + 14}" font-size="10">${b + 1}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top + H + 22}" viewBox="0 0 ${W} ${top + H + 22}">${parts.join("")}</svg>`;
}

/** Gap of each sample against the total size of its items. */
export function sizeScatterSvg(
  samples: readonly { x: number[]; gap: number }[],
  yLabel: string,
): string {
  const W = 480;
  const H = 280;
  const pad = 44;
  const pts = samples.map((s) => [s.x.reduce((a, b) => a + b, 0), s.gap] as const);
  const minX = Math.min(...pts.map((p) => p[0]), 0);
  const maxX = Math.max(1e-9, ...pts.map((p) => p[0]));
  const maxY = Math.max(1e-9, ...pts.map((p) => p[1]));
  const sx = (x: number) => pad + ((x - minX) / (maxX - minX || 1)) * (W - 2 * pad);
  const sy = (y: number) => H - pad - (y / maxY) * (H - 2 * pad);
  const dots = pts
    .map(
      ([x, y]) =>
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${y > 0 ? "#d62728" : "#1f77b4"}" fill-opacity="0.5"/>`,
    )
    .join("");
  const axes = `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#333"/><text x="${W / 2}" y="${H - 10}" font-size="12" text-anchor="middle">total item size (${fmt(minX)} to ${fmt(maxX)})</text><text x="14" y="${H / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">${esc(yLabel)} (max ${fmt(maxY)})</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${axes}${dots}</svg>`;
}

export function vbpReportHtml(a: VbpAnalysis): string {
  const rows = a.methods
    .map(
      (m) =>
        `<tr><td>${esc(m.method)}${m.status === "time_limit" ? " (time limit: lower bound)" : ""}</td><td>${m.heuristicBins ?? "–"}</td><td>${m.optimalBins ?? "–"}</td><td>${fmt(m.ratio)}</td><td>${m.seconds.toFixed(2)} s</td><td>${m.method === "exact" ? "MILP" : m.evaluations}</td></tr>`,
    )
    .join("");
  const e = a.explanation;
  const items = a.best?.items ?? [];
  const pictures = e
    ? `<div class="row"><div>${binsSvg(`${a.heuristic}: ${e.heuristicBins} bins`, items, e.heuristic)}</div><div>${binsSvg(`optimum: ${e.optimalBins} bins${e.optimalProven ? "" : " (not proven)"}`, items, e.optimal)}</div></div><p>Each bar is one dimension of one bin (dashed line: capacity); each item keeps its colour in both packings.</p>`
    : "";
  const regions = a.regions
    .map(
      (r, i) =>
        `<h3>Region ${i + 1} ${r.significant ? "(significant)" : "(not significant)"}</h3><p>Mean gap inside ${fmt(r.inside.meanGap)} over ${r.inside.samples} samples (${(r.inside.highFraction * 100).toFixed(0)}% high), outside ${fmt(r.outside.meanGap)} over ${r.outside.samples}; one-sided Mann-Whitney U p = ${r.pValue.toExponential(2)}.</p><p>${r.ranges.length ? r.ranges.map((x) => `item ${x.item + 1} dim ${x.dim + 1} ∈ [${fmt(x.lower)}, ${fmt(x.upper)}]`).join(", ") : "a single point"}; other sizes as in the seed.</p>`,
    )
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>XPlain: ${esc(a.heuristic)} vector bin packing</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}.row{display:flex;gap:2em;flex-wrap:wrap}</style></head><body>
<h1>XPlain: where ${esc(a.heuristic)} underperforms on ${a.items} items in ${a.dims} dimensions</h1>
<p>Sizes on levels ${a.levels.map(fmt).join(", ")}; objective: ${a.objective === "ratio" ? "heuristic/optimal bins - 1" : "extra bins"}.</p>
<h2>Worst input found</h2><table><tr><th>method</th><th>heuristic bins</th><th>optimal bins</th><th>ratio</th><th>time</th><th>evaluations</th></tr>${rows}</table>
${items.length ? `<p>Items: ${esc(items.map((it) => `(${it.map(fmt).join(", ")})`).join(" "))}</p>` : ""}
${e ? `<h2>Why</h2><p>${esc(e.text)}</p>${pictures}` : ""}
<h2>Gap over the input space</h2>${sizeScatterSvg(a.samples, a.objective === "ratio" ? "ratio - 1" : "extra bins")}<p>Every black-box sample; red: the heuristic used more bins than the optimum.</p>
<h2>Adversarial regions</h2>${regions || "<p>none grown</p>"}
${a.notes.length ? `<h2>Notes</h2><ul>${a.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
</body></html>`;
}
