#!/usr/bin/env bash
# Identity through the running platform (BENCHMARKS.md, section "Identity
# in the platform"): code exchange at POST /oauth/token with the real app
# service and every middleware, the host endpoints behind
# openmini.getLaunchData and openmini.getAuthCode with account sessions,
# beside GET /healthz through the platform and a fixed JSON handler, in the
# same run. On PostgreSQL too when OPENMINI_BENCH_POSTGRES names a database.
#
#   bench/identityweb.sh            # N=5000 requests, C=16 clients
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
go run ./bench/identityweb -n "${N:-5000}" -c "${C:-16}"
if [[ -n ${OPENMINI_BENCH_POSTGRES:-} ]]; then
	go run ./bench/identityweb -n "${N:-5000}" -c "${C:-16}" -db "$OPENMINI_BENCH_POSTGRES"
fi
