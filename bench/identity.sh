#!/usr/bin/env bash
# Identity benchmarks (see BENCHMARKS.md, section "Identity").
#
#   1. launch-data signing (Go benchmark) beside raw ES256 signatures
#      (crypto/ecdsa on a digest) in the same run;
#   2. authorization-code exchange at POST /oauth/token over loopback HTTP
#      on SQLite, beside the same client loop against a trivial handler
#      that returns a fixed JSON body of the same size; and on PostgreSQL
#      too when OPENMINI_BENCH_POSTGRES names a database URL.
#
#   bench/identity.sh            # N=10000 requests, C=16 clients, BENCHTIME=3s
set -euo pipefail
cd "$(dirname "$0")/.."

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"

echo "## launch-data signing vs raw ES256"
go test -run '^$' -bench . -benchtime "${BENCHTIME:-3s}" -count 1 ./bench/identity

echo "## code exchange at the token endpoint (SQLite) vs fixed JSON handler"
go run ./bench/identity/exchange -n "${N:-10000}" -c "${C:-16}"

if [[ -n ${OPENMINI_BENCH_POSTGRES:-} ]]; then
	echo "## code exchange at the token endpoint (PostgreSQL) vs fixed JSON handler"
	go run ./bench/identity/exchange -n "${N:-10000}" -c "${C:-16}" -db "$OPENMINI_BENCH_POSTGRES"
fi
