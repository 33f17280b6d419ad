#!/usr/bin/env bash
# Console page benchmark (see BENCHMARKS.md, section "Consoles"): wrk against
# three server-rendered console pages (signed in, database-backed) and
# against nginx serving the same HTML from disk, in the same run.
#
#   bench/console.sh                # 5 s per run
#   DURATION=10s bench/console.sh
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go run ./bench/console -duration "${DURATION:-5s}" -nginx "$(command -v nginx || echo /usr/sbin/nginx)"
