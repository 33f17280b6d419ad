#!/usr/bin/env bash
# Traffic distribution through the running platform's HTTP surfaces (see
# BENCHMARKS.md, section "Discovery in the platform"): a platform in one
# process with the demo world plus a thousand indexed mini programs and 4,000
# launches; clients over loopback HTTP load the host's home page (anonymous
# and signed in), ask for suggestions, search, launch through the shell
# (recorded), and page the directory feed (and revalidate it: 304), beside
# GET /healthz on the same server and clients (the plain-HTTP floor).
# SQLite by default; DATABASE_URL=postgres://.../EMPTY_DB for PostgreSQL.
#
#   bench/discoveryweb.sh                # 5 s per measurement, 8 clients
#   DURATION=10s CLIENTS=4 bench/discoveryweb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
go run ./bench/discoveryweb -duration "${DURATION:-5s}" -clients "${CLIENTS:-8}" -apps "${APPS:-1000}" -database-url "${DATABASE_URL:-}"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
