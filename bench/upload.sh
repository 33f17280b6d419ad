#!/usr/bin/env bash
# Server side of a version upload (BENCHMARKS.md, section "Uploads"):
# app.Service.Upload of a 2 MB, 200-file package on SQLite and a blob
# folder, beside the floor of the same work done by standard tools
# (sha256sum of every file and a copy into a folder).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go test -run '^$' -bench 'Upload2MB' -benchtime "${BENCHTIME:-20x}" -count 1 ./bench/upload
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go run ./bench/upload/gen -o "$work/pkg.ma"
mkdir -p "$work/x" "$work/store"
( cd "$work/x" && unzip -q ../pkg.ma )
ref() {
	local t0 t1
	t0=$(date +%s%N)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		unzip -tq "$work/pkg.ma" >/dev/null
		find "$work/x" -type f -exec sha256sum {} + >/dev/null
		cp -r "$work/x/." "$work/store/"
		sha256sum "$work/pkg.ma" >/dev/null
	done
	t1=$(date +%s%N)
	echo "reference (unzip -t, sha256sum every file and the package, cp into a folder): $(( (t1 - t0) / 10000000 )) ms per package"
}
ref
