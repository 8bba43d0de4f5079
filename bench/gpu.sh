#!/usr/bin/env bash
# bench/gpu.sh LOGDIR: the one check of erlgo's CUDA backend on a GPU machine, in about seven
# minutes. Run it from the project root after `source .device/env.sh` (made here by
# ../shared/scripts/device-pack.sh; carry .device, and .cuda/include from kernels/cuda/env.sh,
# the CUDA 13.0 headers CI compiles against). In order, each step logged to LOGDIR/STEP.log:
#
#   probe    nvidia-smi, nvcc, where CUDA's headers and libraries are, and whether the driver's
#            libcuda.so.1 exports the CUDA 12 entry points erlgo's compat cuda.h declares
#   build    erlgo and bench/kernels with -tags gpu; every driver function they import must be
#            exported by libcuda.so.1
#   tests    go test -tags gpu ./...: the kernels' reference tests on the CUDA set, the model's
#            device-memory, KV-cache, generation and training-step parity tests on CUDA
#   kernels  bench/kernels on CUDA, beside PyTorch's ops on the same GPU (bench/torch/peer.py)
#   step     a training step of the base model (BenchmarkTrainStepCUDA) beside PyTorch's, eager
#            and torch.compile'd
#   train    erlgo train --device cuda --size base for 3 minutes, and its held-out success
#
# then prints a table of the steps. A PyTorch step that fails does not stop the Go steps; each
# step has a time limit, and the steps after a failed build or an exhausted budget are skipped.
#
# bench/gpu.sh --rehearse LOGDIR runs the same script on a machine without a GPU: the CPU
# emulator of the kernels (-tags cudaemu) in place of the GPU, at sizes it can run in a few
# minutes, so that everything but CUDA itself is exercised.
set -uo pipefail

rehearse=0
if [[ "${1:-}" == "--rehearse" ]]; then
  rehearse=1
  shift
fi
if [[ $# -ne 1 ]]; then
  echo "usage: bench/gpu.sh [--rehearse] LOGDIR" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
mkdir -p "$1"
log=$(cd "$1" && pwd)
bin=$log/bin
mkdir -p "$bin"
py=${ERLGO_TORCH_PYTHON:-/opt/torch/.venv/bin/python}
[[ -x "$py" ]] || py=python3
budget=${ERLGO_GPU_BUDGET:-475} # seconds for the whole check: under 8 minutes
deadline=$((SECONDS + budget))

if ((rehearse)); then
  tags=cudaemu
  train_args=(--size small --time 20s --batch 2 --group 2 --eval-levels 4)
  kernels_args=(-run 'small/(gemm qkv|layernorm|adamw|sum squares)$' -time 10ms -samples 2)
  torch_kernels_args=(--run 'small/(gemm qkv|layernorm|adamw|sum squares)$' --time 0.01 --samples 2)
  test_pkgs=(./kernels/... ./model/)
  step_bench='^$' # the base model's step takes minutes on the emulator
  torch_step_args=(--size small --samples 2 --iters 1)
else
  tags=gpu
  train_args=(--size base --time 3m)
  kernels_args=(-time 30ms -samples 5)
  torch_kernels_args=(--time 0.03 --samples 5)
  test_pkgs=(./...)
  step_bench='TrainStepCUDA'
  torch_step_args=(--size base)
fi
# Compile against the CUDA 13.0 headers CI uses when they were carried, else the machine's;
# the compat cuda.h goes first either way.
if [[ -f .cuda/include/cuda.h ]]; then
  export CGO_CFLAGS="-I$PWD/kernels/cuda/compat -I$PWD/.cuda/include ${CGO_CFLAGS:-}"
else
  export CGO_CFLAGS="-I$PWD/kernels/cuda/compat ${CGO_CFLAGS:-}"
fi

declare -a rows    # the table: step|status|seconds|result
declare -A status  # step -> ok, FAIL, skipped
failed_build=0

# run STEP LIMIT FUNCTION: runs FUNCTION with its output in LOGDIR/STEP.log, within LIMIT
# seconds and what is left of the budget (less reserve seconds kept for the steps after it).
run() {
  local name=$1 limit=$2 fn=$3 reserve=${4:-0} t0=$SECONDS rc
  local left=$((deadline - SECONDS - reserve))
  if ((failed_build)) && [[ $name != probe ]]; then
    status[$name]=skipped
    rows+=("$name|skipped|0|the build failed")
    return
  fi
  if ((left < 10)); then
    status[$name]=skipped
    rows+=("$name|skipped|0|out of time ($budget s in all)")
    return
  fi
  ((limit > left)) && limit=$left
  echo "== $name (at most ${limit}s), logging to $log/$name.log" >&2
  ERLGO_STEP_LIMIT=$limit "$fn" >"$log/$name.log" 2>&1
  rc=$?
  status[$name]=ok
  ((rc != 0)) && status[$name]=FAIL
  ((rc == 124)) && status[$name]="FAIL (timed out)"
  rows+=("$name|${status[$name]}|$((SECONDS - t0))|$(summary_"$name" 2>/dev/null | head -n 1)")
}

# within runs a command for at most the step's time limit.
within() { timeout --kill-after=5 "${ERLGO_STEP_LIMIT:-60}" "$@"; }

# ---- probe ----

first_file() { # first_file NAME DIR...: the first file called NAME under the DIRs
  local name=$1
  shift
  for d in "$@"; do
    [[ -d "$d" ]] || continue
    find -L "$d" -name "$name" -print -quit 2>/dev/null | grep . && return
  done
  echo "(not found)"
}

probe() {
  date -u
  echo "== nvidia-smi"
  nvidia-smi || echo "nvidia-smi failed"
  echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader)"
  echo "== nvcc"
  nvcc --version || echo "no nvcc on PATH"
  echo "== go"
  go version
  echo "== PyTorch ($py)"
  "$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "device", torch.cuda.get_device_name() if torch.cuda.is_available() else None)'
  local roots=("${CUDA_ROOT:-/usr/local/cuda}" /usr/local/cuda /opt/torch/.venv)
  echo "== CUDA_ROOT=${CUDA_ROOT:-unset}; CGO_CFLAGS=$CGO_CFLAGS; CGO_LDFLAGS=${CGO_LDFLAGS:-}"
  for h in cuda.h cublas_v2.h nvrtc.h host_defines.h; do
    echo "$h: $(first_file "$h" .cuda/include "${roots[@]}")"
  done
  for l in libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13 libnvrtc-builtins.so.13.0; do
    echo "$l: $(first_file "$l" "${roots[@]}")"
  done
  local libcuda
  command -v nm >/dev/null || echo "no nm (binutils) on PATH: the symbols below cannot be listed"
  libcuda=$(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')
  echo "libcuda.so.1: ${libcuda:-(not found)} -> $(readlink -f "${libcuda:-/nonexistent}")"
  echo "== the CUDA 12 entry points kernels/cuda/compat/cuda.h declares, in libcuda.so.1"
  local missing=0
  for s in cuCtxCreate_v2 cuMemAdvise cuMemPrefetchAsync cuGraphGetEdges cuGraphAddDependencies; do
    if nm -D --defined-only "$libcuda" 2>/dev/null | awk '{print $NF}' | grep -qx "$s"; then
      echo "  $s: exported"
    else
      echo "  $s: MISSING"
      missing=1
    fi
  done
  return $missing
}

summary_probe() {
  local gpu entry
  gpu=$(grep -m1 '^gpu: .' "$log/probe.log" | cut -c6- | cut -d, -f1-2)
  entry=$(grep -c ': exported$' "$log/probe.log")
  echo "${gpu:-no GPU found}; CUDA 12 entry points exported: $entry/5"
}

# ---- build ----

build() {
  go version && echo "CGO_CFLAGS=$CGO_CFLAGS" &&
    within go build -tags "$tags" -o "$bin/erlgo" ./cmd/erlgo &&
    within go build -tags "$tags" -o "$bin/kernels" ./bench/kernels || return 1
  [[ $tags == gpu ]] || return 0
  # Every driver function the binaries import must be one the driver exports.
  local libcuda missing
  libcuda=$(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')
  missing=$(comm -23 <(nm -D --undefined-only "$bin/erlgo" "$bin/kernels" | awk '$NF ~ /^cu[A-Z]/ {sub(/@.*/, "", $NF); print $NF}' | sort -u) \
    <(nm -D --defined-only "$libcuda" | awk '{sub(/@.*/, "", $NF); print $NF}' | sort -u))
  echo "driver functions imported: $(nm -D --undefined-only "$bin/erlgo" | awk '$NF ~ /^cu[A-Z]/' | wc -l); not in $libcuda: ${missing:-none}"
  [[ -z "$missing" ]]
}

summary_build() {
  if [[ ${status[build]} == ok ]]; then
    grep -m1 'driver functions imported' "$log/build.log" || echo "erlgo and bench/kernels built with -tags $tags"
  else
    grep -m1 -iE 'error|undefined|not in' "$log/build.log"
  fi
}

# ---- tests ----

# Each kernel is waited for as it is launched, so that one that fails is the one named.
tests() { ERLGO_CUDA_SYNC=1 within go test -tags "$tags" -count=1 -v "${test_pkgs[@]}"; }

summary_tests() {
  local ok fail
  ok=$(grep -cE '^ok ' "$log/tests.log")
  fail=$(grep -E '^--- FAIL' "$log/tests.log" | awk '{print $3}' | sort -u | tr '\n' ' ')
  echo "$ok packages ok; failing: ${fail:-none}"
}

# ---- kernels ----

kernels() {
  local rc=0
  within "$bin/kernels" -backend cuda "${kernels_args[@]}" -out "$log/kernels-go.json" || return 1
  within "$bin/kernels" -list >"$log/workloads.json" &&
    within "$py" bench/torch/peer.py kernels --device cuda --workloads "$log/workloads.json" "${torch_kernels_args[@]}" \
      --json --compare "$log/kernels-go.json" >"$log/kernels-torch.json" || rc=$?
  ((rc == 0)) || echo "the PyTorch peer failed (status $rc); the Go figures stand"
  return 0
}

summary_kernels() {
  "$py" - "$log/kernels-go.json" "$log/kernels-torch.json" <<'PY'
import json, sys
go = json.load(open(sys.argv[1]))
c = {r["unit"]: r for r in go["ceilings"] if r["backend"] == "cuda"}
out = [f"Sgemm {c['GFLOP/s']['rate'] / 1e3:.1f} TFLOP/s, copy {c['GB/s']['rate']:.0f} GB/s"]
try:
    torch = {(r["size"], r["name"]): r for r in json.load(open(sys.argv[2]))["results"]}
    mine = [r for r in go["results"] if r["backend"] == "cuda" and (r["size"], r["name"]) in torch]
    for size in ("small", "base", "large"):
        rs = [r for r in mine if r["size"] == size]
        if rs:
            g, t = sum(r["seconds"] for r in rs), sum(torch[(r["size"], r["name"])]["seconds"] for r in rs)
            out.append(f"{size}: {g * 1e3:.2f} ms against PyTorch's {t * 1e3:.2f} ({len(rs)} kernels)")
except (OSError, ValueError, KeyError):
    out.append("no PyTorch figures")
print("; ".join(out))
PY
}

# ---- step ----

step() {
  local rc=0
  within go test -tags "$tags" -run '^$' -bench "$step_bench" -benchtime 20x ./model/ || return 1
  for mode in eager compile; do
    local flag=()
    [[ $mode == compile ]] && flag=(--compile)
    within "$py" bench/torch/peer.py step --device cuda "${torch_step_args[@]}" "${flag[@]}" --json >"$log/step-torch-$mode.json" || rc=$?
    ((rc == 0)) || echo "the PyTorch peer ($mode) failed (status $rc); the Go figures stand"
    rc=0
  done
  return 0
}

summary_step() {
  "$py" - "$log/step.log" "$log/step-torch-eager.json" "$log/step-torch-compile.json" <<'PY'
import json, re, sys
go = {m[1]: float(m[2]) / 1e6 for m in re.finditer(r"BenchmarkTrainStepCUDA/(\w+)\S*\s+\d+\s+([\d.]+) ns/op", open(sys.argv[1]).read())}
out = [f"Go {go['step']:.1f} ms a step ({go['gradients']:.1f} ms gradients)" if "step" in go else "no Go figure"]
for mode, path in (("eager", sys.argv[2]), ("compile", sys.argv[3])):
    try:
        r = json.load(open(path))
        out.append(f"PyTorch {mode} {r['step']['median_ms']:.1f} ({r['gradients']['median_ms']:.1f})")
    except (OSError, ValueError, KeyError):
        out.append(f"no PyTorch {mode} figure")
print("; ".join(out))
PY
}

# ---- train ----

# The run directory stays out of LOGDIR, which would not take its checkpoints; what the table
# and a reader need of it is copied in.
train() {
  local run=${TMPDIR:-/tmp}/erlgo-gpu-train rc
  rm -rf "$run" "$log/train"
  within "$bin/erlgo" train --device cuda "${train_args[@]}" --steps 1000000 --eval-every 0 --out "$run"
  rc=$?
  mkdir -p "$log/train"
  cp "$run"/{config.json,metrics.jsonl,metrics.csv,episodes.txt,success.png,loss.png} "$log/train/" 2>/dev/null
  return $rc
}

summary_train() {
  "$py" - "$log/train/metrics.jsonl" <<'PY'
import json, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
last = recs[-1]
step_ms = statistics.median(r["step_s"] for r in recs) * 1e3
print(f"{last['step']} steps in {last['wall_s']:.0f} s ({step_ms:.0f} ms median); held-out success greedy {last.get('eval_greedy', float('nan')):.3f}, sampled {last.get('eval_sampled', float('nan')):.3f}")
PY
}

run probe 60 probe
run build 150 build
[[ ${status[build]} == ok ]] || failed_build=1
run tests 180 tests 225
run kernels 90 kernels 225
run step 90 step 220
run train 230 train

{
  echo
  printf '%-8s  %-18s  %5s  %s\n' step status s result
  for r in "${rows[@]}"; do
    IFS='|' read -r name st secs result <<<"$r"
    printf '%-8s  %-18s  %5s  %s\n' "$name" "$st" "$secs" "$result"
  done
  echo "logs in $log"
} | tee "$log/table.txt"
