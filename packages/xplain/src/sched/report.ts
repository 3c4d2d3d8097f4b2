/**
 * An HTML report of an SP-PIFO analysis with inline SVG: the departure order of PIFO and
 * SP-PIFO on the worst sequence (rank of the packet leaving in each slot, inversions in red),
 * each packet's queue and the bounds it met, how often each gap occurs among the samples,
 * and the regions.
 */
import type { SchedAnalysis } from "./analyze.js";
import type { SchedExplanation } from "./explain.js";

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** Rank of the packet leaving in each slot: PIFO (grey) and SP-PIFO (blue; red = overtook). */
export function departuresSvg(e: SchedExplanation): string {
  const W = 520;
  const H = 260;
  const pad = 40;
  const n = e.ranks.length;
  const maxR = Math.max(1, ...e.ranks);
  const sx = (i: number) => pad + (n <= 1 ? 0 : (i / (n - 1)) * (W - 2 * pad));
  const sy = (r: number) => H - pad - (r / maxR) * (H - 2 * pad);
  const line = (order: number[], stroke: string) =>
    `<polyline fill="none" stroke="${stroke}" stroke-width="2" points="${order.map((p, i) => `${sx(i).toFixed(1)},${sy(e.ranks[p]!).toFixed(1)}`).join(" ")}"/>`;
  const early = new Set(e.inversions.map((x) => x.early));
  const dots = e.spPifoOrder
    .map(
      (p, i) =>
        `<circle cx="${sx(i).toFixed(1)}" cy="${sy(e.ranks[p]!).toFixed(1)}" r="4" fill="${early.has(p) ? "#d62728" : "#1f77b4"}"><title>slot ${i}: packet ${p}, rank ${e.ranks[p]}${early.has(p) ? " (left while a lower rank waited)" : ""}</title></circle>`,
    )
    .join("");
  const axes = `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#333"/><text x="${W / 2}" y="${H - 10}" font-size="12" text-anchor="middle">departure slot</text><text x="14" y="${H / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">rank (max ${maxR})</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${axes}${line(e.pifoOrder, "#aaa")}${line(e.spPifoOrder, "#1f77b4")}${dots}</svg>`;
}

/** How many samples had each gap value. */
export function gapHistogramSvg(samples: readonly { gap: number }[], label: string): string {
  const W = 420;
  const H = 220;
  const pad = 36;
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(s.gap, (counts.get(s.gap) ?? 0) + 1);
  const keys = [...counts.keys()].sort((a, b) => a - b);
  const maxC = Math.max(1, ...counts.values());
  const bw = (W - 2 * pad) / Math.max(1, keys.length);
  const bars = keys
    .map((k, i) => {
      const h = (counts.get(k)! / maxC) * (H - 2 * pad);
      return `<rect x="${(pad + i * bw + 1).toFixed(1)}" y="${(H - pad - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${k > 0 ? "#d62728" : "#1f77b4"}"><title>gap ${k}: ${counts.get(k)} samples</title></rect>${keys.length <= 30 ? `<text x="${(pad + i * bw + bw / 2).toFixed(1)}" y="${H - pad + 12}" font-size="9" text-anchor="middle">${k}</text>` : ""}`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/>${bars}<text x="${W / 2}" y="${H - 6}" font-size="12" text-anchor="middle">${esc(label)}</text></svg>`;
}

export function schedReportHtml(a: SchedAnalysis): string {
  const rows = a.methods
    .map(
      (m) =>
        `<tr><td>${esc(m.method)}</td><td>${m.skipped ? "skipped" : (m.gap ?? "–")}</td><td>${m.ranks ? m.ranks.join(" ") : "–"}</td><td>${m.seconds.toFixed(3)} s</td><td>${m.evaluations}</td></tr>`,
    )
    .join("");
  const e = a.explanation;
  const overtaken = new Map(e?.mostDelayed.map((m) => [m.packet, m.overtakenBy]) ?? []);
  const table = e
    ? `<table><tr><th>packet</th><th>rank</th><th>queue</th><th>bounds on arrival</th><th>push-down</th><th>PIFO slot</th><th>SP-PIFO slot</th><th>overtaken by</th></tr>${e.packets
        .map(
          (p) =>
            `<tr><td>${p.packet}</td><td>${p.rank}</td><td>${p.queue}</td><td>[${p.boundsOnArrival.join(", ")}]</td><td>${p.pushDown || ""}</td><td>${p.pifoSlot}</td><td>${p.spPifoSlot}</td><td>${overtaken.get(p.packet) ?? ""}</td></tr>`,
        )
        .join("")}</table><p>Queue 0 has the highest priority.</p>`
    : "";
  const regions = a.regions
    .map(
      (r, i) =>
        `<h3>Region ${i + 1} ${r.significant ? "(significant)" : "(not significant)"}</h3><p>Mean gap inside ${r.inside.meanGap.toFixed(2)} over ${r.inside.samples} samples (${(r.inside.highFraction * 100).toFixed(0)}% high), outside ${r.outside.meanGap.toFixed(2)} over ${r.outside.samples}; one-sided Mann-Whitney U p = ${r.pValue.toExponential(2)}.</p><p>${r.ranges.length ? r.ranges.map((x) => `packet ${x.packet} rank ∈ [${x.lower}, ${x.upper}]`).join(", ") : "a single point"}; other ranks as in the seed (${r.seed.join(" ")}).</p><p>${esc(r.explanation.text)}</p>`,
    )
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>XPlain: SP-PIFO vs PIFO</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}.row{display:flex;gap:2em;flex-wrap:wrap}</style></head><body>
<h1>XPlain: where SP-PIFO (${a.queues} queues) departs from PIFO</h1>
<p>${a.packets} packets, ranks 0..${a.maxRank}, one dequeue every ${a.dequeueEvery || "∞ (all arrive first)"} arrivals; gap: ${a.metric === "inversions" ? "priority inversions (a packet leaves while a lower rank waits)" : "priority-weighted delay, SP-PIFO minus PIFO"}.</p>
<h2>Worst sequence found</h2><table><tr><th>method</th><th>gap</th><th>ranks</th><th>time</th><th>evaluations</th></tr>${rows}</table>
${e ? `<h2>Why</h2><p>${esc(e.text)}</p><div class="row"><div>${departuresSvg(e)}<p>Grey: PIFO; blue: SP-PIFO; red: a packet that left while a lower rank waited.</p></div><div>${table}</div></div>` : ""}
<h2>Gap over the input space</h2>${gapHistogramSvg(a.samples, `gap (${a.metric}) of the sampled sequences`)}
<h2>Adversarial regions</h2>${regions || "<p>none grown</p>"}
${a.notes.length ? `<h2>Notes</h2><ul>${a.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
</body></html>`;
}
