#!/usr/bin/env bash
# The webgpu backend on a real GPU: op parity against the reference backend, then
# `webgpu-matmul` (1024, 2048, 4096; f32 and f16 inputs; f16 weight storage), `webgpu-reduce`,
# `webgpu-record`, `webgpu-train-step` (GPT-2-shaped, plus fusion / bind-cache ablations) and
# `lm-decode` (f32 / f16 weights, f32 / f16 KV cache), each with PyTorch
# (CUDA, TF32 off) in the same run where there is a peer. `run --parts a,b` picks parts (see
# bench/_webgpu-device.mjs); `run --parity-only` runs the op parity alone.
#
# GPU machines here have no Node and no node_modules, so this works in two steps:
#   bash bench/webgpu-device-check.sh prep   # here: .device-carry/ = Node, dawn.node, Vulkan
#                                            # loaders (../shared/tools/device-prep.sh) + one
#                                            # esbuild bundle of the check
#   bash bench/webgpu-device-check.sh run    # on the GPU machine, from the checkout root
#                                            # (carry .device-carry along)
# `run` also works on any machine with a WebGPU adapter and the bundle (lavapipe included).
set -euo pipefail
top=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$top"
case "${1:-}" in
  prep)
    bash "$top/../shared/tools/device-prep.sh"
    npx esbuild bench/_webgpu-device.mjs --bundle --platform=node --format=esm \
      --conditions=source --target=node20 --outfile=.device-carry/webgpu-check.mjs \
      --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
      --log-level=warning
    du -sh .device-carry
    ;;
  run)
    # shellcheck disable=SC1091
    . .device-carry/setup.sh
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
    # The NVIDIA Vulkan ICD must be visible to the loader (driver containers ship its JSON).
    if [ -z "${VK_ICD_FILENAMES:-}" ]; then
      for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
        /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
        [ -f "$f" ] && export VK_ICD_FILENAMES="$f" && break
      done
    fi
    node .device-carry/webgpu-check.mjs "${@:2}"
    ;;
  *)
    echo "usage: bash bench/webgpu-device-check.sh prep|run [--parity-only | --parts a,b,...]" >&2
    exit 2
    ;;
esac
