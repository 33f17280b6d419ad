#!/usr/bin/env bash
# Payments through the running platform's HTTP surfaces (see BENCHMARKS.md,
# section "Payments in the platform"): a platform in one process with the
# demo's payments world, clients over loopback HTTP creating orders with the
# merchant API and paying them through the host's tradePay endpoint, beside
# GET /healthz on the same server and clients (the plain-HTTP floor).
# SQLite by default; DATABASE_URL=postgres://.../EMPTY_DB for PostgreSQL.
#
#   bench/payweb.sh                # 5 s per measurement, 8 clients
#   DURATION=10s CLIENTS=4 bench/payweb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
go run ./bench/payweb -duration "${DURATION:-5s}" -clients "${CLIENTS:-8}" -database-url "${DATABASE_URL:-}"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
