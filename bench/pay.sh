#!/usr/bin/env bash
# Payments benchmarks (see BENCHMARKS.md, section "Payments").
#
# Sustained payments (a merchant creates an order with an Idempotency-Key,
# the user pays it with the PIN: journal entry and order.paid webhook job in
# the same transaction) on SQLite, then on a throwaway PostgreSQL next to
# pgbench's TPC-B-like script on the very same server with the same number
# of clients.
#
#   bench/pay.sh                  # PAY_CLIENTS=8, PAY_N=5000 payments, pgbench -T 10
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${PAY_CLIENTS:-8}
N=${PAY_N:-5000}
export PAY_CLIENTS=$CLIENTS

# A throwaway PostgreSQL, started and stopped by the test script's helpers.
# shellcheck source=../scripts/test.sh
source scripts/test.sh
trap stop_postgres EXIT
start_postgres
PSQL=psql
[[ -x $PG_BIN/psql ]] && PSQL=$PG_BIN/psql
PGBENCH=pgbench
[[ -x $PG_BIN/pgbench ]] && PGBENCH=$PG_BIN/pgbench

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync=off, synchronous_commit=off as in scripts/test.sh), $CLIENTS clients"

echo "## openmini: create order + pay, $N payments, $CLIENTS concurrent clients"
go test -run '^$' -bench 'Payments(SQLite|Postgres)$' -benchtime "${N}x" -count 1 ./bench/pay
go test -run '^$' -bench 'PINDefault' -benchtime 20x -count 1 ./bench/pay | grep -E '^Benchmark'

echo "## reference: pgbench TPC-B-like (pgbench -i -s 1; pgbench -T 10 -c $CLIENTS -j 2)"
"$PSQL" "$OPENMINI_TEST_POSTGRES" -XAtqc 'CREATE DATABASE pgbench' >/dev/null
DB_URL=${OPENMINI_TEST_POSTGRES/\/postgres\?/\/pgbench\?}
"$PGBENCH" -q -i -s 1 "$DB_URL" >/dev/null 2>&1
"$PGBENCH" -T "${PGBENCH_SECONDS:-10}" -c "$CLIENTS" -j 2 "$DB_URL" 2>/dev/null | grep -E 'tps|latency average|number of transactions actually'
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
