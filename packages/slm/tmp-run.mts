import { progressLine } from "@athanor/lm";
import { saveSlm, trainSlm } from "./src/index.ts";

const out = process.argv[2]!;
const steps = Number(process.argv[3]);
const r = await trainSlm({
  seed: 0,
  steps,
  perTemplate: Number(process.argv[4] ?? 60),
  onStage: (s) => console.log(s),
  onProgress: (m) => {
    if (m.step % 10 === 0) console.log(progressLine(m));
  },
});
await saveSlm(r, out);
console.log(JSON.stringify(r.meta));
