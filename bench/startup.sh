#!/usr/bin/env bash
# Start-up benchmark (BENCHMARKS.md, section "Start-up"): process start to
# /readyz 200 on an empty SQLite data directory, and idle resident memory,
# beside nginx serving a static file, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go build -o bin/openmini ./cmd/openmini
go run ./bench/startup -openmini bin/openmini -nginx "$(command -v nginx)" -runs "${RUNS:-20}"
