#!/usr/bin/env bash
# The recurrent kernel's matrix products on one core: the `gemm` crate as the kernel builds it,
# the f32 kernel on packed panels and the int8 kernels of quantised inference
# (models/examples/products.rs), against PyTorch's
# MKL (torch.addmm) and its dynamically quantised Linear (the products of quantize_dynamic),
# 1 thread, on the same shapes, ROUNDS rounds alternating; the best time per implementation.
# For int8 the last column counts integer operations (GOP/s).
# Usage: scripts/kernel-products.sh [ROUNDS]
set -euo pipefail
rounds="${1:-5}"
cd "$(dirname "$0")/.."
cargo build --quiet --release -p seqlab-models --example products
example="${CARGO_TARGET_DIR:-target}/release/examples/products"
out="$(mktemp)"
for _ in $(seq "$rounds"); do
  taskset -c 0 "$example" 1 >> "$out"
  taskset -c 0 python3 - >> "$out" <<'PY'
import json, time, warnings, torch
warnings.filterwarnings("ignore", category=UserWarning)
torch.set_num_threads(1)
for m, k, n in [(16, 200, 800), (32, 200, 800), (32, 256, 1024), (1280, 100, 800), (200, 1280, 800)]:
    a, b, c = torch.rand(m, k), torch.rand(k, n), torch.zeros(m, n)
    reps = int(0.2e11 / (2 * m * k * n)) + 1
    torch.addmm(c, a, b, out=c)
    t = time.perf_counter()
    for _ in range(reps):
        torch.addmm(c, a, b, out=c)
    s = (time.perf_counter() - t) / reps
    print(json.dumps({"shape": f"{m}x{k}x{n}", "implementation": "PyTorch f32 (MKL)", "us": s * 1e6, "gflops": 2 * m * k * n / s / 1e9}))
    linear = torch.ao.nn.quantized.dynamic.Linear(k, n)
    linear(a)
    t = time.perf_counter()
    for _ in range(reps):
        linear(a)
    s = (time.perf_counter() - t) / reps
    print(json.dumps({"shape": f"{m}x{k}x{n}", "implementation": "PyTorch int8 (quantize_dynamic Linear)", "us": s * 1e6, "gflops": 2 * m * k * n / s / 1e9}))
PY
done
python3 - "$out" <<'PY'
import json, sys
best, shapes = {}, []
for line in open(sys.argv[1]):
    d = json.loads(line)
    key = (d["shape"], d["implementation"])
    best[key] = min(best.get(key, 1e18), d["us"])
    shapes += [d["shape"]] if d["shape"] not in shapes else []
print("| rows×k×n | implementation | µs (best) | GFLOP/s or GOP/s |")
print("| --- | --- | ---: | ---: |")
for (shape, impl), us in sorted(best.items(), key=lambda item: shapes.index(item[0][0])):
    m, k, n = map(int, shape.split("x"))
    print(f"| {shape} | {impl} | {us:.1f} | {2 * m * k * n / us / 1e3:.0f} |")
PY
rm -f "$out"
