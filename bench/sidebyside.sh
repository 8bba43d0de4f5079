#!/usr/bin/env bash
# bench/sidebyside.sh OLD NEW PKG REGEXP [ROUNDS] [BENCHTIME]
#
# Runs the Go benchmarks matching REGEXP in package PKG (e.g. ./model) at two git revisions
# side by side: both test binaries are built first, then run alternately, ROUNDS times each
# (default 5), so that a busy machine slows both alike. Prints every run, then for each
# benchmark the minimum ns/op of each revision and the ratio NEW/OLD. NEW may be "." for the
# working tree. Environment variables (ERLGO_CPU, GOMAXPROCS) pass through to both.
#
#   bench/sidebyside.sh 5a821ec . ./model 'TrainStep|Sample'
set -euo pipefail
if [[ $# -lt 4 ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
old=$1 new=$2 pkg=$3 regexp=$4 rounds=${5:-5} benchtime=${6:-10x}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
cleanup() {
  git -C "$root" worktree remove --force "$tmp/old" 2>/dev/null || true
  [[ $new == . ]] || git -C "$root" worktree remove --force "$tmp/new" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

dir_of() { # the source tree of a revision
  if [[ $2 == . ]]; then echo "$root"; return; fi
  git -C "$root" worktree add -q --detach "$tmp/$1" "$2"
  echo "$tmp/$1"
}
declare -A src
for side in old new; do
  rev=$old; [[ $side == new ]] && rev=$new
  src[$side]=$(dir_of "$side" "$rev")
  (cd "${src[$side]}" && go test -c -o "$tmp/$side.test" "$pkg") >&2
done

log=$tmp/runs.txt
for ((r = 1; r <= rounds; r++)); do
  for side in old new; do
    (cd "${src[$side]}/$pkg" && "$tmp/$side.test" -test.run '^$' -test.bench "$regexp" -test.benchtime "$benchtime") |
      awk -v side="$side" '/^Benchmark/ { print side, $0 }' | tee -a "$log"
  done
done

echo
printf '%-40s %14s %14s %8s\n' benchmark "old min ns/op" "new min ns/op" new/old
awk '{ key = $2; ns = $4; side = $1
       if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
       if (!((side, key) in min) || ns < min[side, key]) min[side, key] = ns }
     END { for (i = 1; i <= n; i++) { k = order[i]
             printf "%-40s %14.0f %14.0f %8.3f\n", k, min["old", k], min["new", k], min["new", k] / min["old", k] } }' "$log"
