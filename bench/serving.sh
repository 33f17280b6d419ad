#!/usr/bin/env bash
# Package asset serving (BENCHMARKS.md, section "Serving package files"):
# wrk against a mini program's origin and against nginx serving the same
# 1 KB and 100 KB files from disk, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go run ./bench/serving -duration "${DURATION:-10s}" -nginx "$(command -v nginx || echo /usr/sbin/nginx)"
