// The Python that runs the PyTorch peers of the benchmarks.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Python with torch: $PYTHON, else python3 on PATH (a GPU machine's venv), else /usr/bin/python3. */
export function torchPython() {
  if (process.env.PYTHON) return process.env.PYTHON;
  const onPath = spawnSync("python3", ["-c", "import torch"], { stdio: "ignore" });
  if (onPath.status === 0 || !existsSync("/usr/bin/python3")) return "python3";
  return "/usr/bin/python3";
}
