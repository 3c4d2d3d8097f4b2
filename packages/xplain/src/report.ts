/**
 * An HTML report of a TE analysis, with inline SVG: the topology with the links demand
 * pinning congests, the gap found by each method, and the gaps of every sample over total
 * demand (the input space as people look at it). No external assets; opens offline.
 */
import type { TeAnalysis } from "./te/analyze.js";
import type { Topology } from "./topology.js";

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const fmt = (x: number | undefined) =>
  x === undefined ? "–" : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3);

/** The topology on a circle; congested links in red, thicker with more pinned load. */
export function topologySvg(t: Topology, congested: Map<string, number>): string {
  const W = 520;
  const R = 200;
  const pos = new Map(
    t.nodes.map((n, i) => {
      const a = (2 * Math.PI * i) / t.nodes.length - Math.PI / 2;
      return [n, [W / 2 + R * Math.cos(a), W / 2 + R * Math.sin(a)] as const];
    }),
  );
  const parts: string[] = [];
  const drawn = new Set<string>();
  for (const l of t.links) {
    const key = [l.from, l.to].sort().join("|");
    const c =
      (congested.get(`${l.from}->${l.to}`) ?? 0) + (congested.get(`${l.to}->${l.from}`) ?? 0);
    if (drawn.has(key) && c === 0) continue;
    drawn.add(key);
    const [x1, y1] = pos.get(l.from)!;
    const [x2, y2] = pos.get(l.to)!;
    const hot = c > 0;
    parts.push(
      `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${hot ? "#d62728" : "#999"}" stroke-width="${hot ? 5 : 1.5}"><title>${esc(`${l.from}–${l.to}: capacity ${l.capacity}${hot ? `, pinned load ${fmt(c)}` : ""}`)}</title></line>`,
    );
  }
  for (const [n, [x, y]] of pos) {
    parts.push(
      `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="16" fill="#1f77b4"/><text x="${x.toFixed(1)}" y="${(y + 4).toFixed(1)}" font-size="10" text-anchor="middle" fill="#fff">${esc(n)}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${W}" viewBox="0 0 ${W} ${W}">${parts.join("")}</svg>`;
}

/** Gap of every sample against its total demand. */
export function scatterSvg(
  samples: { x: number[]; gap: number }[],
  best?: { x: number[]; gap: number },
): string {
  const W = 520;
  const H = 320;
  const pad = 44;
  const pts = samples.map((s) => [s.x.reduce((a, b) => a + b, 0), s.gap] as const);
  if (best) pts.push([best.x.reduce((a, b) => a + b, 0), best.gap]);
  const maxX = Math.max(1e-9, ...pts.map((p) => p[0]));
  const maxY = Math.max(1e-9, ...pts.map((p) => p[1]));
  const sx = (x: number) => pad + (x / maxX) * (W - 2 * pad);
  const sy = (y: number) => H - pad - (y / maxY) * (H - 2 * pad);
  const dots = samples
    .map(
      (s, i) =>
        `<circle cx="${sx(pts[i]![0]).toFixed(1)}" cy="${sy(s.gap).toFixed(1)}" r="2.5" fill="#1f77b4" fill-opacity="0.5"/>`,
    )
    .join("");
  const star = best
    ? `<circle cx="${sx(pts.at(-1)![0]).toFixed(1)}" cy="${sy(best.gap).toFixed(1)}" r="6" fill="#d62728"><title>worst input found: gap ${fmt(best.gap)}</title></circle>`
    : "";
  const axes = `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#333"/><text x="${W / 2}" y="${H - 8}" font-size="12" text-anchor="middle">total demand (max ${fmt(maxX)})</text><text x="14" y="${H / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">gap (max ${fmt(maxY)})</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${axes}${dots}${star}</svg>`;
}

export function teReportHtml(a: TeAnalysis, topology: Topology): string {
  const congested = new Map((a.explanation?.congested ?? []).map((c) => [c.link, c.pinnedLoad]));
  const rows = a.methods
    .map(
      (m) =>
        `<tr><td>${esc(m.method)}${m.status === "time_limit" ? " (time limit: lower bound)" : ""}</td><td>${fmt(m.gap)}</td><td>${m.gapFraction === undefined ? "–" : `${(m.gapFraction * 100).toFixed(2)}%`}</td><td>${m.seconds.toFixed(2)} s</td><td>${m.evaluations ?? "MILP"}</td></tr>`,
    )
    .join("");
  const regions = a.regions
    .map(
      (r, i) =>
        `<h3>Region ${i + 1} ${r.significant ? "(significant)" : "(not significant)"}</h3><p>Mean gap inside ${fmt(r.inside.meanGap)} over ${r.inside.samples} samples (${(r.inside.highFraction * 100).toFixed(0)}% high), outside ${fmt(r.outside.meanGap)} over ${r.outside.samples}; one-sided Mann-Whitney U p = ${r.pValue.toExponential(2)}.</p><p>${r.ranges.length ? r.ranges.map((x) => `${esc(x.pair)} ∈ [${fmt(x.lower)}, ${fmt(x.upper)}]`).join(", ") : "a single point (no coordinate could widen while keeping the gap high)"}; other demands as in the seed.</p>${r.explanation ? `<p>${esc(r.explanation.text)}</p>` : ""}`,
    )
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>XPlain: ${esc(a.heuristic)} on ${esc(a.topology)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}.row{display:flex;gap:2em;flex-wrap:wrap}</style></head><body>
<h1>XPlain: where ${esc(a.heuristic)} underperforms on ${esc(a.topology)}</h1>
<p>${a.pairs.length} demand pairs; levels ${a.levels.map(fmt).join(", ")}${a.threshold !== undefined ? `; pinning threshold ${fmt(a.threshold)}` : ""}; total capacity ${fmt(a.totalCapacity)}.</p>
<h2>Worst gap found</h2><table><tr><th>method</th><th>gap</th><th>of capacity</th><th>time</th><th>evaluations</th></tr>${rows}</table>
${a.explanation ? `<h2>Why</h2><p>${esc(a.explanation.text)}</p>` : ""}
<div class="row"><div><h2>Topology</h2>${topologySvg(topology, congested)}<p>Red: links the pinned demands congest on the worst input.</p></div>
<div><h2>Gap over the input space</h2>${scatterSvg(a.samples, a.best?.demands ? { x: a.best.demands, gap: a.best.gap! } : undefined)}<p>Black-box samples (blue) and the worst input found (red).</p></div></div>
<h2>Adversarial regions</h2>${regions || "<p>none grown</p>"}
${a.notes.length ? `<h2>Notes</h2><ul>${a.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
</body></html>`;
}
