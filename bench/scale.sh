#!/usr/bin/env bash
# The scale curve: one fan-out of N items (`for_each: range(N)`, concurrency 64, a POST per
# item, the full JSON report written) against a local nginx, next to oha doing the same N
# requests at 64 connections in the same run. Prints, per size: whisk's time and peak RSS, the
# report's size, oha's time, and whisk/oha (oha's time over whisk's: 1 is as fast). Then the
# same fan-out over the N rows of a CSV file (`--inputs-file rows=rows.csv`, read in place).
# Only 127.0.0.1 is used.
#
#   bench/scale.sh                                # 10,000, 100,000 and 1,000,000 items
#   BENCH_SCALE_SIZES="10000 100000" bench/scale.sh
#
# Variables: BENCH_SCALE_SIZES, BENCH_PORT (18092). Needs nginx, /usr/bin/time (installed from
# Debian when missing) and oha (cargo install oha@1.16.0 when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
sizes="${BENCH_SCALE_SIZES:-10000 100000 1000000}"
port="${BENCH_PORT:-18092}"
work=$(mktemp -d)
base="http://127.0.0.1:$port"
say() { printf '== %s\n' "$*" >&2; }

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v oha >/dev/null; then
  say "installing oha 1.16.0 (cargo install)"
  cargo install oha@1.16.0 --locked --quiet
fi

cat > "$work/nginx.conf" <<CONF
worker_processes 1;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work/body;
  server {
    listen 127.0.0.1:$port reuseport backlog=4096;
    default_type application/json;
    location / { return 200 '{"enabled":true}'; }
  }
}
CONF
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
trap 'kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 0.3

cat > "$work/fan.yaml" <<'YAML'
version: 1
name: scale
inputs:
  base: { type: string }
  n: { type: integer }
steps:
  - id: enable
    for_each: range(inputs.n)
    concurrency: 64
    request:
      method: POST
      url: "{{ inputs.base }}/v1/subscriptions/{{ item }}/apiservice/access"
outputs:
  succeeded: steps.enable.succeeded
YAML

cat > "$work/rows.yaml" <<'YAML'
version: 1
name: scale-rows
inputs:
  base: { type: string }
  rows: { type: array, columns: { locator: string, seats: integer } }
steps:
  - id: enable
    for_each: inputs.rows
    concurrency: 64
    request:
      method: POST
      url: "{{ inputs.base }}/v1/subscriptions/{{ item.locator }}/apiservice/access"
      json: { seats: "{{ item.seats }}" }
outputs:
  succeeded: steps.enable.succeeded
YAML

say "building whisk (release)"
cargo build --release --locked --quiet
whisk="$root/target/release/whisk"

# "seconds peak_kib" of a command.
measure() {
  local start end rss
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt" || {
    cat "$work/err.txt" >&2; return 1; }
  end=$(date +%s.%N)
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  python3 -c "print(f'{$end - $start:.3f} $rss')"
}

printf '%-10s %10s %12s %12s %10s %12s\n' items whisk_s whisk_MiB report_MiB oha_s whisk/oha
for n in $sizes; do
  read -r ws wrss < <(measure "$whisk" run "$work/fan.yaml" --input "base=$base" \
    --input "n=$n" --report "$work/report.json" -q)
  grep -q "\"succeeded\": $n" "$work/out.txt" || {
    echo "whisk did not do $n items" >&2; cat "$work/out.txt" "$work/err.txt" >&2; exit 1; }
  report=$(stat -c %s "$work/report.json")
  read -r os _ < <(measure oha -n "$n" -c 64 --no-tui --output-format quiet -m POST \
    "$base/v1/subscriptions/1/apiservice/access")
  python3 -c "print(f'{$n:<10} {$ws:>10.2f} {$wrss/1024:>12.1f} {$report/1048576:>12.1f} {$os:>10.2f} {$os/$ws:>12.2f}')"
  rm -f "$work/report.json"
done

echo
printf '%-10s %10s %12s %12s %10s\n' rows whisk_s whisk_MiB report_MiB csv_MiB
for n in $sizes; do
  python3 -c "
import sys
with open('$work/rows.csv', 'w') as f:
    f.write('locator,seats\\n')
    for i in range($n):
        f.write(f'{100000 + i},{i % 50}\\n')
"
  read -r ws wrss < <(measure "$whisk" run "$work/rows.yaml" --input "base=$base" \
    --inputs-file "rows=$work/rows.csv" --report "$work/report.json" -q)
  grep -q "\"succeeded\": $n" "$work/out.txt" || {
    echo "whisk did not do $n rows" >&2; cat "$work/out.txt" "$work/err.txt" >&2; exit 1; }
  report=$(stat -c %s "$work/report.json")
  csv=$(stat -c %s "$work/rows.csv")
  python3 -c "print(f'{$n:<10} {$ws:>10.2f} {$wrss/1024:>12.1f} {$report/1048576:>12.1f} {$csv/1048576:>10.1f}')"
  rm -f "$work/report.json" "$work/rows.csv"
done
