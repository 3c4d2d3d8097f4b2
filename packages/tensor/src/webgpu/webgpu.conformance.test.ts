// The webgpu backend against the reference backend: every op case of the shared conformance
// suite (forward and gradients, odd shapes, non-contiguous views). Runs on any WebGPU adapter;
// in CI that is Mesa's lavapipe (software Vulkan, see .ci/run). Without an adapter the suite is
// skipped with the reason (what was looked for), never failed.
import { describe, it, vi } from "vitest";
import "../index.js";
import { runBackendConformance } from "../../test/conformance.js";
import { createWebGpuBackend, webgpuAvailable } from "./index.js";

// lavapipe compiles the larger kernels slowly on a loaded machine
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const probe = await webgpuAvailable();

if (probe.available) {
  runBackendConformance(`webgpu (${probe.adapter})`, () => createWebGpuBackend());
} else {
  describe("backend conformance: webgpu", () => {
    it.skip(`skipped: no WebGPU adapter (${probe.reason})`, () => {});
  });
}
