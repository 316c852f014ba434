#!/usr/bin/env bash
# Runs every go fuzz target in the repository for $FUZZTIME (default 30s).
# A crasher is written by go test under testdata/fuzz/<Target>/ and the
# run fails: commit that file, it becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
fail=0
while IFS= read -r line; do
	file=${line%%:*}
	target=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")
	pkg=./$(dirname "$file")
	echo "== fuzz $target in $pkg for $FUZZTIME"
	if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg"; then
		echo "FUZZ FAILED: $target in $pkg"
		fail=1
	fi
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | grep -v '/vendor/')
exit $fail
