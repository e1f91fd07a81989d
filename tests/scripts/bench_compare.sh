#!/usr/bin/env bash
# fastport-bench --compare end to end: it starts a fastport-server per
# transport on loopback, runs the same workload on each, prints the
# side-by-side table, writes one CSV row per transport and run (io_mode
# naming the transport) and an SVG, loses no reply and exits 0.
# Every usable transport given is compared; a single one is given twice.
# Usage: bench_compare.sh BENCH TRANSPORT_PROBE TRANSPORT_DIR NAME...
set -uo pipefail

bench=$1 probe=$2 transport_dir=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

names=()
for name in "$@"; do
    status=0
    why=$("$probe" "$transport_dir" "$name") || status=$?
    if [ "$status" -eq 77 ]; then
        echo "skipping $name: $why"
        continue
    fi
    [ "$status" -eq 0 ] || fail "$name: fp-transport-probe exit $status"
    names+=("$name")
done
if [ "${#names[@]}" -eq 0 ]; then
    echo "no transport usable on this machine"
    exit 77
fi
[ "${#names[@]}" -eq 1 ] && names+=("${names[0]}")
list=$(IFS=,; echo "${names[*]}")

timeout 120 "$bench" --compare="$list" --transport-dir="$transport_dir" --sessions=20 --depth=4 \
    --payload=64-1024 --duration=1 --runs=1 --csv="$work/out.csv" --plot="$work/out.svg" \
    >"$work/out.txt" 2>"$work/err.txt"
status=$?
[ "$status" -eq 0 ] || fail "--compare=$list exited $status"

grep -q '^ratio of medians to ' "$work/out.txt" || fail "no ratio table printed"
grep -qE '^msgs/s +[0-9]' "$work/out.txt" || fail "no msgs/s row in the table"
headings=$(grep -m 1 -B 1 -E '^runs ' "$work/out.txt" | head -n 1)
for name in "${names[@]}"; do
    echo "$headings" | grep -qw -- "$name" || fail "table has no column for $name"
done

csv="$work/out.csv"
[ -s "$csv" ] || fail "no CSV written"
header=$(head -n 1 "$csv")
case "$header" in
test_name,iterations,payload_size,*) ;;
*) fail "CSV header does not start with FastPort's columns: $header" ;;
esac
column() { # column NAME: its 1-based position in the header
    echo "$header" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1
}
io_col=$(column io_mode) lost_col=$(column lost_replies) run_col=$(column run)
resp_col=$(column measured_responses)
[ -n "$io_col" ] && [ -n "$lost_col" ] && [ -n "$run_col" ] && [ -n "$resp_col" ] ||
    fail "CSV header lacks io_mode, run, lost_replies or measured_responses"
rows=$(($(wc -l <"$csv") - 1))
[ "$rows" -eq "${#names[@]}" ] || fail "CSV has $rows rows, expected ${#names[@]}"

i=0
while IFS=, read -r -a cells; do
    name=${names[$i]}
    io=${cells[$((io_col - 1))]}
    [ "$io" = "client=$name;server=$name" ] || fail "row $((i + 1)): io_mode '$io', expected $name"
    [ "${cells[$((run_col - 1))]}" = 1 ] || fail "row $((i + 1)): run is not 1"
    [ "${cells[$((lost_col - 1))]}" = 0 ] || fail "row $((i + 1)): lost replies ${cells[$((lost_col - 1))]}"
    [ "${cells[$((resp_col - 1))]}" -gt 0 ] || fail "row $((i + 1)): nothing measured"
    i=$((i + 1))
done < <(tail -n +2 "$csv")

head -c 200 "$work/out.svg" | grep -q '<svg' || fail "the plot is not an SVG document"

if [ "$failures" -ne 0 ]; then
    sed 's/^/  stdout: /' "$work/out.txt" | tail -n 40
    sed 's/^/  stderr: /' "$work/err.txt" | tail -n 20
    exit 1
fi
echo "bench_compare ($list): ok"
