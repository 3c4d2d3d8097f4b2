// The Python that runs the PyTorch peers of the benchmarks.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

let found = null;

/**
 * Python with torch: $PYTHON, else python3 on PATH (a GPU machine's venv), else
 * /usr/bin/python3. Found once per process (the probe imports torch, which takes seconds).
 */
export function torchPython() {
  if (process.env.PYTHON) return process.env.PYTHON;
  if (found === null) {
    const onPath = spawnSync("python3", ["-c", "import torch"], { stdio: "ignore" });
    found = onPath.status === 0 || !existsSync("/usr/bin/python3") ? "python3" : "/usr/bin/python3";
  }
  return found;
}
