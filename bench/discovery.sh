#!/usr/bin/env bash
# Traffic distribution benchmarks (see BENCHMARKS.md, section "Discovery").
#
# Starts a throwaway PostgreSQL (as scripts/test.sh does), runs the Go
# benchmarks in bench/discovery on SQLite and PostgreSQL (search and
# suggestions over 100,000 published apps; one user's recommendations over
# 1,000,000 launch events; p50/p99 of single requests), then pgbench's
# built-in select-only script on the same server as the reference: p50/p99
# of one primary-key SELECT per transaction, one client.
#
#   bench/discovery.sh                    # BENCHTIME=2000x
#   DISCOVERY_BENCH_SCALE=10 bench/discovery.sh   # a tenth of the data, quick
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../scripts/test.sh
source scripts/test.sh # functions only; sourcing does not run the suite

work=$(mktemp -d)
cleanup() {
	stop_postgres
	rm -rf "$work"
}
trap cleanup EXIT

if [[ -z ${OPENMINI_TEST_POSTGRES:-} ]]; then
	start_postgres
fi
psql=psql
[[ -n ${PG_BIN:-} && -x $PG_BIN/psql ]] && psql=$PG_BIN/psql
pgbench=pgbench
[[ -n ${PG_BIN:-} && -x $PG_BIN/pgbench ]] && pgbench=$PG_BIN/pgbench

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $("$psql" "$OPENMINI_TEST_POSTGRES" -XAtqc 'show server_version'), $(date -u +%Y-%m-%d)"
echo "## openmini (go test -bench, p50/p99 of single requests)"
go test -run '^$' -bench 'Discovery' -benchtime "${BENCHTIME:-2000x}" -timeout 60m -count 1 -v ./bench/discovery |
	grep -E '^(Benchmark|ok|FAIL|PASS)|bench_test.go'

echo "## reference: pgbench -S (select-only, scale 10, 1 client, 20 s) on the same server"
"$psql" "$OPENMINI_TEST_POSTGRES" -XAtqc 'DROP DATABASE IF EXISTS bench_pgbench' -c 'CREATE DATABASE bench_pgbench' >/dev/null
ref=${OPENMINI_TEST_POSTGRES/\/postgres\?/\/bench_pgbench?}
"$pgbench" -i -q -s 10 "$ref" >/dev/null 2>&1
(cd "$work" && "$pgbench" -n -S -c 1 -T 20 -l "$ref" | grep -E 'tps|latency average')
sort -n -k3,3 "$work"/pgbench_log.* | awk '{ l[NR] = $3 } END {
	printf "pgbench select-only: %d transactions, p50 %.3f ms, p99 %.3f ms\n", NR, l[int(NR*0.50)]/1000, l[int(NR*0.99)]/1000 }'
