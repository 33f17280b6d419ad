#!/usr/bin/env bash
# Package benchmarks (see BENCHMARKS.md, section "Packages").
#
# Runs the Go benchmarks in bench/package, then times references on the
# very same fixtures: Debian's `zip -qr` packing the 5 MB, 500-file project
# and `unzip -tq` testing the two 10 GiB zip bombs, with the peak memory of
# each process from GNU time.
#
#   bench/package.sh            # BENCHTIME=20x by default
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go run ./bench/package/gen -o "$work"
echo "# project: $(find "$work/project" -type f | wc -l) files, $(du -sb "$work/project" | cut -f1) bytes; bombs: $(stat -c %s "$work/bomb-honest.ma") bytes each"

echo "## openmini (Go benchmarks)"
go test -run '^$' -bench . -benchtime "${BENCHTIME:-20x}" -count 1 ./bench/package

# measure CMD... prints wall milliseconds and peak RSS of CMD (status ignored).
measure() {
	local start end
	start=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err" || true
	end=$(date +%s%N)
	printf '%8.1f ms  %6d KB max RSS  %s' "$(echo "($end - $start) / 1000000" | bc -l)" "$(tail -1 "$work/rss")" "$*"
	if [ -s "$work/err" ]; then printf '  (%s)' "$(head -c 120 "$work/err" | tr '\n' ' ')"; fi
	echo
}

echo "## reference (Debian zip/unzip, best of 5)"
for i in 1 2 3 4 5; do
	rm -f "$work/ref.zip"
	(cd "$work/project" && measure zip -qr -X "$work/ref.zip" .)
done | sort -n | head -1
for bomb in bomb-honest bomb-lying; do
	for i in 1 2 3; do measure unzip -tq "$work/$bomb.ma"; done | sort -n | head -1
done
