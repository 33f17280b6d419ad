#!/usr/bin/env bash
# QR code benchmarks (see BENCHMARKS.md, section "QR codes").
#
# Runs the Go benchmarks in bench/qr on one core (GOMAXPROCS=1, pinned with
# taskset), then, on the very same short links, Debian's qrencode CLI
# drawing them as PNG (the reference encoder) and zbarimg reading our PNGs
# and the rasterised print kit (decoding speed, for context).
#
#   bench/qr.sh            # BENCHTIME=2s by default
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v qrencode >/dev/null || need+=(qrencode)
command -v zbarimg >/dev/null || need+=(zbar-tools)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "## openmini (Go benchmarks, GOMAXPROCS=1)"
go test -c -o "$work/qrbench.test" ./bench/qr
GOMAXPROCS=1 "${pin[@]}" "$work/qrbench.test" -test.run '^$' -test.bench . -test.benchtime "${BENCHTIME:-2s}" -test.benchmem

go build -o "$work/gen" ./bench/qr/gen
mkdir -p "$work/ours" "$work/ref"
"$work/gen" -n 1000 >"$work/links.txt"
"$work/gen" -n 200 -png "$work/ours" -pdf "$work/kit.pdf" >/dev/null

# ms CMD...: wall milliseconds of CMD.
ms() {
	local start end
	start=$(date +%s%N)
	"$@" >/dev/null 2>&1 || true
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}

echo "## reference: qrencode CLI, level M, 14 px modules (518 px), one process per code, one core"
ref_ms=$(ms "${pin[@]}" bash -c 'i=0; while read -r l; do qrencode -l M -s 14 -m 4 -o "$0/ref/$i.png" "$l"; i=$((i+1)); done <"$0/links.txt"' "$work")
echo "qrencode: 1000 PNG codes in ${ref_ms} ms = $((1000 * 1000 / (ref_ms > 0 ? ref_ms : 1))) codes/s (process start included)"
one_ms=$(ms "${pin[@]}" qrencode -l M -s 14 -m 4 -o "$work/one.png" "$(head -1 "$work/links.txt")")
echo "qrencode: a single code ${one_ms} ms (mostly process start)"

echo "## context: zbarimg decoding our 200 PNGs (512 px) in one process"
z_ms=$(ms "${pin[@]}" zbarimg -q --raw "$work"/ours/*.png)
found=$(zbarimg -q --raw "$work"/ours/*.png 2>/dev/null | wc -l)
echo "zbarimg: ${found}/200 decoded in ${z_ms} ms = $((200 * 1000 / (z_ms > 0 ? z_ms : 1))) codes/s"

echo "## the 200-code kit (12 per page): size, and poppler rendering it at 150 dpi"
echo "kit.pdf: $(stat -c %s "$work/kit.pdf") bytes, $(pdfinfo "$work/kit.pdf" | awk '/^Pages:/ {print $2}') pages"
p_ms=$(ms pdftoppm -r 150 -gray -png "$work/kit.pdf" "$work/page")
found=$(zbarimg -q --raw "$work"/page-*.png 2>/dev/null | sort -u | wc -l)
echo "pdftoppm: ${p_ms} ms for all pages; zbarimg finds ${found}/200 codes on the whole pages"
