#!/usr/bin/env bash
# Times bench/kernels' workloads on each CPU path of erlgo and with PyTorch's ops (OpenBLAS for
# the products), alternately, ROUNDS rounds at each thread count, and prints, per workload, the
# fastest call each side had in any round (the rate of that call) and the ratios to PyTorch.
# Minima of alternating runs, because the machine is shared: a burst of another job's load
# lowers one side's median in one round, not every side's best.
#
#   bench/torch/kernels.sh                               # the products, 1 and 2 threads, 3 rounds
#   RUN='small/' PATHS=avx2 THREADS=2 bench/torch/kernels.sh
#   OUT=bench/results/X bench/torch/kernels.sh           # keep every run's JSON in X
#
# PATHS defaults to the vector paths the CPU can take (erlgo's ERLGO_CPU); TIME_MS is each
# workload's time a run in milliseconds (default 300). ERLGO_TORCH_PYTHON picks the Python (default
# /usr/bin/python3, which sees Debian's torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${ERLGO_TORCH_PYTHON:-/usr/bin/python3}
run=${RUN:-'(small|base)/gemm|large/gemm square'}
threads_list=${THREADS:-"1 2"}
rounds=${ROUNDS:-3}
ms=${TIME_MS:-300}

if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
  echo "kernels.sh: $py cannot import torch and numpy; see bench/torch/README.md" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${OUT:-$tmp}
mkdir -p "$out"
go build -o "$tmp/kernels" ./bench/kernels
if [[ -z ${PATHS:-} ]]; then
  PATHS=$(go run ./cmd/erlgo version --json | "$py" -c 'import json, sys; print(" ".join(p for p in json.load(sys.stdin)["cpu_paths"].split(", ") if p != "generic"))')
fi

echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc), $(go version | cut -d' ' -f3), torch $("$py" -c 'import torch; print(torch.__version__)'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "runs alternate: erlgo on each of [$PATHS], then the peer; $rounds rounds at each of [$threads_list] threads"
for round in $(seq "$rounds"); do
  for threads in $threads_list; do
    for path in $PATHS; do
      GOMAXPROCS=$threads ERLGO_CPU=$path "$tmp/kernels" -run "$run" -time "${ms}ms" -out "$out/$path-${threads}t-$round.json" >/dev/null
    done
    "$py" bench/torch/peer.py kernels --run "$run" --time "$(awk -v ms="$ms" 'BEGIN { print ms / 1000 }')" --threads "$threads" --json >"$out/torch-${threads}t-$round.json" 2>/dev/null
  done
done
[[ -r /proc/pressure/cpu ]] && echo "cpu pressure after: $(head -1 /proc/pressure/cpu)"
echo

"$py" - "$out" $PATHS <<'EOF'
import glob, json, os, sys

out, paths = sys.argv[1], sys.argv[2:]
best, work, unit, order = {}, {}, {}, []
for f in sorted(glob.glob(os.path.join(out, "*t-*.json"))):
    impl, threads, _ = os.path.basename(f)[:-5].rsplit("-", 2)
    for w in json.load(open(f))["results"]:
        key = (w["size"], w["name"], w["shape"])
        if key not in work:
            order.append(key)
        work[key], unit[key] = w["rate"] * w["seconds"], w["unit"]  # GFLOP or GB a call
        k = (key, impl, threads)
        best[k] = min(best.get(k, float("inf")), min(w["samples"]))  # seconds a call
threads_list = sorted({t for _, _, t in best})
impls = paths + ["torch"]
head = [f"{i if i != 'torch' else 'PyTorch'} {t}" for t in threads_list for i in impls]
head += [f"{p}/PyTorch {t}" for t in threads_list for p in paths]
print("the rate of the fastest call in any round, in GFLOP/s (GB/s where the unit says so)")
print("| workload | " + " | ".join(head) + " |")
print("|" + " --- |" * (len(head) + 1))
for key in order:
    rate = lambda i, t: work[key] / best[(key, i, t)] if (key, i, t) in best else float("nan")
    cells = [f"{rate(i, t):.0f}" for t in threads_list for i in impls]
    cells += [f"{rate(p, t) / rate('torch', t):.2f}" for t in threads_list for p in paths]
    name = f"{key[0]} {key[1]}, {key[2]}" + ("" if unit[key] == "GFLOP/s" else f" ({unit[key]})")
    print(f"| {name} | " + " | ".join(cells) + " |")
EOF
