#!/usr/bin/env bash
# QR routes of a running platform (see BENCHMARKS.md, section "QR codes in
# the platform"): wrk against a scan (GET /s/{slug}: rate limit, resolve,
# record the scan, 302) and a code's public PNG, beside nginx answering the
# same 302 from its configuration and the same PNG from disk, in the same
# run. SQLite by default; DATABASE_URL=postgres://.../EMPTY_DB for PostgreSQL
# (a fresh, empty database: the run creates its accounts there).
#
#   bench/qrweb.sh                 # 5 s per run
#   DURATION=10s bench/qrweb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
go run ./bench/qrweb -duration "${DURATION:-5s}" -nginx "$(command -v nginx || echo /usr/sbin/nginx)" -database-url "${DATABASE_URL:-}"
