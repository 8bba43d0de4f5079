#!/usr/bin/env bash
# Runs erlgo's BenchmarkTrainStep and BenchmarkSample and the PyTorch peer's step and sample
# on the same model and batch (the benchmarks write them with -peer.out), alternately, at each
# thread count, and prints every run and, per benchmark, the minimum of each side and their
# ratio. Each run is the mean of ITERS calls on both sides, as `go test -benchtime ITERSx`.
#
#   bench/torch/compare.sh                 # 2 and 1 threads, 5 rounds, 10 calls a run
#   THREADS=2 ROUNDS=3 ITERS=5 bench/torch/compare.sh
#
# ERLGO_TORCH_PYTHON picks the Python (default /usr/bin/python3, which sees Debian's torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${ERLGO_TORCH_PYTHON:-/usr/bin/python3}
threads_list=${THREADS:-"2 1"}
rounds=${ROUNDS:-5}
iters=${ITERS:-10}

if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
  echo "compare.sh: $py cannot import torch and numpy; see bench/torch/README.md" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/model.test" ./model
(cd model && "$tmp/model.test" -test.run '^$' -test.bench '^BenchmarkTrainStep$' -test.benchtime 1x -peer.out "$tmp/in" >/dev/null)
in=(--checkpoint "$tmp/in/checkpoint.safetensors" --inputs "$tmp/in/inputs.json")

# go_ms BENCHMARK THREADS: the benchmark's ms per call over $iters calls.
go_ms() {
  (cd model && GOMAXPROCS=$2 "$tmp/model.test" -test.run '^$' -test.bench "^$1\$" -test.benchtime "${iters}x") |
    awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" { printf "%.2f", $3 / 1e6; found = 1 } END { exit !found }'
}

# peer_ms COMMAND FIELD THREADS: the peer's ms per call over $iters calls.
peer_ms() {
  "$py" bench/torch/peer.py "$1" "${in[@]}" --threads "$3" --warmup 2 --iters "$iters" --samples 1 --json |
    "$py" -c 'import json, sys; print("%.2f" % json.load(sys.stdin)[sys.argv[1]]["min_ms"])' "$2"
}

echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc), $(go version | cut -d' ' -f3), torch $("$py" -c 'import torch; print(torch.__version__)'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "each figure: ms per call, mean of $iters calls; runs alternate erlgo, peer"
pressure() { [[ -r /proc/pressure/cpu ]] && echo "cpu pressure $1: $(head -1 /proc/pressure/cpu)"; return 0; }
pressure before
summary=()
for threads in $threads_list; do
  for bench in train sample; do
    if [[ $bench == train ]]; then gobench=BenchmarkTrainStep peer=(step gradients); else gobench=BenchmarkSample peer=(sample generate); fi
    ours=() theirs=()
    for _ in $(seq "$rounds"); do
      ours+=("$(go_ms "$gobench" "$threads")")
      theirs+=("$(peer_ms "${peer[0]}" "${peer[1]}" "$threads")")
    done
    echo "threads $threads  $gobench: ${ours[*]}   peer.py ${peer[0]}: ${theirs[*]}"
    summary+=("$(printf '%s\n' "${ours[@]}" | sort -g | head -1) $(printf '%s\n' "${theirs[@]}" | sort -g | head -1) $threads $gobench ${peer[0]}")
  done
done
pressure after
echo
printf '%-8s %-20s %-12s %12s %12s %10s\n' threads erlgo peer.py "erlgo ms" "peer ms" "erlgo/peer"
for row in "${summary[@]}"; do
  read -r a b threads gobench peer <<<"$row"
  printf '%-8s %-20s %-12s %12s %12s %10s\n' "$threads" "$gobench" "$peer" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
done
