#!/usr/bin/env bash
# bench.sh: run the benchmark harness (hack/bench) against the binaries in
# $BUILD (default build/, made by `make binaries`). It prints one table and
# rewrites docs/benchmarks.md. Extra arguments go to the harness, e.g.
#   hack/bench.sh --swarm off --takeovers 1,100
# It takes a few minutes (the swarm part needs root and dockerd; without
# them it is skipped with the reason). Not a CI gate.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
for b in infrakit-manager infrakit-group-sim; do
	[[ -x "$BUILD/$b" ]] || { echo "bench: $BUILD/$b missing; run 'make binaries'" >&2; exit 1; }
done
if [[ -n "${MAKELEVEL:-}" ]]; then cmd="make bench"; else cmd="BUILD=$BUILD hack/bench.sh"; fi
export BENCH_COMMAND="$cmd${*:+ $*}"
exec go run ./hack/bench --build "$BUILD" "$@"
