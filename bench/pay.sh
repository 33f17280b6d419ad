#!/usr/bin/env bash
# Payments benchmarks (see BENCHMARKS.md, section "Payments").
#
# Sustained payments (a merchant creates an order with an Idempotency-Key,
# the user pays it with the PIN: journal entry and order.paid webhook job in
# the same transaction) on SQLite, then on a throwaway PostgreSQL next to
# pgbench's TPC-B-like script on the very same server with the same number
# of clients. The PostgreSQL side runs in rounds, so all sides meet the same
# state of a shared machine: in each, openmini with the payments spread
# over PAY_MERCHANTS merchants (a platform's load), openmini with every
# payment to one merchant (one shop taking all of them: its account row is
# locked by each payment in turn), then pgbench. Every round prints its
# ratios and the script ends with their medians.
#
#   bench/pay.sh       # PAY_CLIENTS=8, PAY_N=15000 payments a run, PAY_ROUNDS=3, PAY_MERCHANTS=16, pgbench -T 10
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${PAY_CLIENTS:-8}
N=${PAY_N:-15000}
ROUNDS=${PAY_ROUNDS:-3}
export PAY_CLIENTS=$CLIENTS

# A throwaway PostgreSQL, started and stopped by the test script's helpers.
# shellcheck source=../scripts/test.sh
source scripts/test.sh
BIN=$(mktemp -d)
trap 'stop_postgres; rm -rf "$BIN"' EXIT
start_postgres
PSQL=psql
[[ -x $PG_BIN/psql ]] && PSQL=$PG_BIN/psql
PGBENCH=pgbench
[[ -x $PG_BIN/pgbench ]] && PGBENCH=$PG_BIN/pgbench
go test -c -o "$BIN/pay.test" ./bench/pay

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync=off, synchronous_commit=off as in scripts/test.sh), $CLIENTS clients"

bench() { (cd bench/pay && "$BIN/pay.test" -test.run '^$' -test.count 1 "$@"); }

echo "## openmini on SQLite: create order + pay, $N payments, $CLIENTS concurrent clients, one merchant (one writer takes every payment in turn whatever the merchant)"
bench -test.bench 'PaymentsSQLite$' -test.benchtime "${N}x" | grep -E '^Benchmark'
bench -test.bench 'PINDefault' -test.benchtime 20x | grep -E '^Benchmark'

"$PSQL" "$OPENMINI_TEST_POSTGRES" -XAtqc 'CREATE DATABASE pgbench' >/dev/null
DB_URL=${OPENMINI_TEST_POSTGRES/\/postgres\?/\/pgbench\?}
"$PGBENCH" -q -i -s 1 "$DB_URL" >/dev/null 2>&1

MERCHANTS=${PAY_MERCHANTS:-16}
echo "## PostgreSQL, $ROUNDS rounds: openmini (create order + pay, $N payments) over $MERCHANTS merchants, then to one merchant, then pgbench TPC-B-like (-s 1, -T ${PGBENCH_SECONDS:-10} -c $CLIENTS -j 2)"
# run MERCHANTS: "rate cpu" of one openmini run.
run() {
	local line
	line=$(PAY_MERCHANTS=$1 bench -test.bench 'PaymentsPostgres$' -test.benchtime "${N}x" | grep -E '^Benchmark')
	awk '{for (i = 1; i < NF; i++) { if ($(i+1) == "payments/s") r = $i; if ($(i+1) == "cpu-µs/payment") c = $i } } END {print r, c}' <<<"$line"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", 100 * a / b}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
spread=() one=()
for round in $(seq 1 "$ROUNDS"); do
	read -r rs cs <<<"$(run "$MERCHANTS")"
	read -r r1 c1 <<<"$(run 1)"
	tps=$("$PGBENCH" -T "${PGBENCH_SECONDS:-10}" -c "$CLIENTS" -j 2 "$DB_URL" 2>/dev/null | awk '/^tps/ {print $3}')
	spread+=("$(pct "$rs" "$tps")") one+=("$(pct "$r1" "$tps")")
	echo "round $round: openmini over $MERCHANTS merchants $rs payments/s ($cs cpu-µs/payment), to one merchant $r1 payments/s ($c1 cpu-µs/payment), pgbench $tps tps: ${spread[-1]}% / ${one[-1]}%"
done
echo "median openmini / pgbench: over $MERCHANTS merchants $(median "${spread[@]}")%, to one merchant $(median "${one[@]}")%"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
