#!/usr/bin/env bash
# Host runtime (BENCHMARKS.md, section "Host runtime"): cold launch of a
# mini program in headless Chromium beside the same page as a static file
# from nginx, in the same run, and the SDK bridge round trip.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go run ./bench/host -runs "${RUNS:-20}" -calls "${CALLS:-500}" -nginx "$(command -v nginx || echo /usr/sbin/nginx)"
