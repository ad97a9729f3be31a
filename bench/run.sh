#!/usr/bin/env bash
# The whisk benchmark: the TIBCO enable-access fan-out against a fast local server (nginx, one
# worker, fixed JSON answers), measured in one run against raw load generators (wrk; oha), Hurl
# and Newman, with peak memory from /usr/bin/time and whisk's start-up time from hyperfine.
# Only 127.0.0.1 is used. See bench/README.md for the method and the latest figures.
#
#   bench/run.sh                      # 10,000 items, every peer
#   BENCH_ITEMS=1000 bench/run.sh     # the short version CI runs
#
# Variables: BENCH_ITEMS (10000), BENCH_NODE_ITEMS (1000, for Newman), BENCH_PORT (18090),
# BENCH_PEERS (1: install and run oha, Hurl and Newman; 0: whisk and wrk only), BENCH_RUNS (5:
# each client runs this many times; the median time and the largest peak RSS are reported; whisk
# at concurrency 32 alternates with wrk and oha), BENCH_WRK_SECONDS (2: the length of each wrk run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
items="${BENCH_ITEMS:-10000}"
node_items="${BENCH_NODE_ITEMS:-1000}"
port="${BENCH_PORT:-18090}"
peers="${BENCH_PEERS:-1}"
runs="${BENCH_RUNS:-5}"
wrk_secs="${BENCH_WRK_SECONDS:-2}"
work=$(mktemp -d)
base="http://127.0.0.1:$port"

say() { printf '== %s\n' "$*" >&2; }

need_apt() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

need_apt nginx:nginx-light wrk:wrk hyperfine:hyperfine /usr/bin/time:time
[ -x /usr/sbin/nginx ] || need_apt nginx:nginx-light

# --- the server ------------------------------------------------------------------------------
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/body;
  server {
    listen 127.0.0.1:$port reuseport backlog=4096;
    default_type application/json;
    location = /idm/v1/oauth2/token {
      return 200 '{"access_token":"bench-access-token","expires_in":28800,"refresh_token":"bench-refresh-2","token_type":"Bearer"}';
    }
    location ~ ^/tci/v1/subscriptions/[^/]+/apiservice/access$ { return 200 '{"enabled":true}'; }
    location ~ ^/tci/v1/subscriptions/[^/]+/apps$ { add_header ETag '"bench-1"'; return 200 '[{"id":"app-1","name":"orders"}]'; }
  }
}
CONF
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
trap 'kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 0.3

# --- inputs ----------------------------------------------------------------------------------
python3 - "$items" "$base" > "$work/inputs.json" <<'PY'
import json, sys
n, base = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"base_url": base + "/tci", "token_url": base + "/idm/v1/oauth2/token",
                  "child_locators": [str(100000 + i) for i in range(n)]}))
PY
export TCI_CLIENT_ID=bench-client TCI_CLIENT_SECRET=bench-secret TCI_REFRESH_TOKEN=bench-refresh-1

say "building whisk (release)"
cargo build --release --locked --quiet
whisk="$root/target/release/whisk"
recipe="$root/recipes/tibco/enable-api-access.yaml"

# Runs a command under /usr/bin/time; prints "seconds peak_kib".
# The shipped recipe keeps its tokens in the token store: every run starts with an empty one
# (a token request, and the record written), as a first run does.
export WHISK_TOKEN_STORE="$work/tokens"

measure() {
  local start end
  rm -rf "$WHISK_TOKEN_STORE"
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt" || {
    cat "$work/err.txt" >&2; return 1; }
  end=$(date +%s.%N)
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  python3 -c "print(f'{$end - $start:.3f} $rss')"
}

# Runs `measure` $runs times; prints the median seconds and the largest peak.
measure_runs() {
  local all=()
  for _ in $(seq "$runs"); do
    all+=("$(measure "$@")") || return 1
  done
  printf '%s\n' "${all[@]}" | python3 -c "
import sys, statistics
rows = [line.split() for line in sys.stdin if line.strip()]
print(f'{statistics.median(float(r[0]) for r in rows):.3f} {max(int(r[1]) for r in rows)}')"
}

check_enabled() {
  grep -q '"enabled": '"$items" "$work/out.txt" || {
    echo "whisk did not enable $items items" >&2; cat "$work/out.txt" "$work/err.txt" >&2; exit 1; }
}

results="$work/results.txt"
: > "$results"
record() { echo "$1 $2 $3 $4" >> "$results"; }   # name requests seconds peak_kib

if [ "$peers" = 1 ]; then
  if ! command -v oha >/dev/null; then
    say "installing oha 1.16.0 (cargo install)"
    cargo install oha@1.16.0 --locked --quiet
  fi
  if ! command -v hurl >/dev/null; then
    say "installing Hurl 8.0.1 (cargo install; needs libcurl and libclang)"
    need_apt curl-config:libcurl4-openssl-dev clang:libclang-dev
    cargo install hurl@8.0.1 --locked --quiet
  fi
fi

say "whisk, $items items, concurrency 1"
read -r secs rss < <(measure_runs "$whisk" run "$recipe" --inputs-file "$work/inputs.json" \
  --input concurrency=1 --report "$work/report-1.json" -q)
check_enabled
record whisk-c1 "$((items + 3))" "$secs" "$rss"

# whisk at concurrency 32 and wrk alternate, round after round, so that both see the same
# machine: on a shared VM the speed of the whole machine drifts by ±15% within minutes.
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench-access-token"
LUA
also=""
[ "$peers" = 1 ] && also=" and oha (the same $((items + 3)) requests)"
say "whisk, $items items, concurrency 32, alternating with wrk (32 connections, ${wrk_secs}s)$also $runs times"
: > "$work/c32.txt"
: > "$work/oha.txt"
: > "$work/wrk-rates.txt"
for _ in $(seq "$runs"); do
  measure "$whisk" run "$recipe" --inputs-file "$work/inputs.json" \
    --input concurrency=32 --report "$work/report-32.json" -q >> "$work/c32.txt"
  check_enabled
  wrk -t2 -c32 -d"${wrk_secs}s" -s "$work/post.lua" \
    "$base/tci/v1/subscriptions/100001/apiservice/access" > "$work/wrk.txt"
  awk '/Requests\/sec/ {print $2}' "$work/wrk.txt" >> "$work/wrk-rates.txt"
  if [ "$peers" = 1 ]; then
    measure oha -n "$((items + 3))" -c 32 --no-tui --output-format quiet -m POST \
      -H "Authorization: Bearer bench-access-token" \
      "$base/tci/v1/subscriptions/100001/apiservice/access" >> "$work/oha.txt"
  fi
done
median_of() {
  python3 -c "
import statistics
rows = [line.split() for line in open('$1') if line.strip()]
print(f'{statistics.median(float(r[0]) for r in rows):.3f} {max(int(r[1]) for r in rows)}')"
}
read -r secs rss < <(median_of "$work/c32.txt")
record whisk-c32 "$((items + 3))" "$secs" "$rss"
if [ "$peers" = 1 ]; then
  read -r secs rss < <(median_of "$work/oha.txt")
  record oha-c32 "$((items + 3))" "$secs" "$rss"
fi
wrk_rps=$(python3 -c "
import statistics
print(statistics.median(float(l) for l in open('$work/wrk-rates.txt') if l.strip()))")
echo "wrk-c32 - - - $wrk_rps" >> "$results"

if [ "$peers" = 1 ]; then
  say "hurl, $items items, sequential"
  python3 - "$items" "$base" > "$work/run.hurl" <<'PY'
import sys
n, base = int(sys.argv[1]), sys.argv[2]
out = [f"POST {base}/idm/v1/oauth2/token\n[BasicAuth]\nbench-client: bench-secret\n[FormParams]\ngrant_type: refresh_token\nrefresh_token: bench-refresh-1\nHTTP 200\n[Captures]\ntoken: jsonpath \"$.access_token\"\n",
       f"POST {base}/tci/v1/subscriptions/0/apiservice/access\nAuthorization: Bearer {{{{token}}}}\nHTTP 200\n"]
for i in range(n):
    out.append(f"POST {base}/tci/v1/subscriptions/{100000 + i}/apiservice/access\nAuthorization: Bearer {{{{token}}}}\nHTTP 200\n")
out.append(f"GET {base}/tci/v1/subscriptions/0/apps\nAuthorization: Bearer {{{{token}}}}\nHTTP 200\n")
print("\n".join(out))
PY
  read -r secs rss < <(measure_runs hurl --test "$work/run.hurl")
  record hurl "$((items + 3))" "$secs" "$rss"

  say "newman, $node_items items"
  (cd "$root/bench/node" && npm ci --silent --no-audit --no-fund >/dev/null)
  python3 - "$node_items" "$base" "$work" <<'PY'
import json, sys
n, base, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
collection = {"info": {"name": "bench", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
  "item": [{"name": "enable", "request": {"method": "POST",
    "header": [{"key": "Authorization", "value": "Bearer bench-access-token"}],
    "url": base + "/tci/v1/subscriptions/{{locator}}/apiservice/access"}}]}
json.dump(collection, open(f"{work}/collection.json", "w"))
with open(f"{work}/data.csv", "w") as f:
    f.write("locator\n" + "".join(f"{100000 + i}\n" for i in range(n)))
PY
  read -r secs rss < <(measure "$root/bench/node/node_modules/.bin/newman" run "$work/collection.json" -d "$work/data.csv" --reporters cli --silent)
  record newman "$node_items" "$secs" "$rss"
fi

say "whisk validate start-up"
hyperfine -N --warmup 10 --runs 100 --export-json "$work/validate.json" "$whisk validate $recipe" >/dev/null 2>&1
validate_ms=$(python3 -c "import json; print(f\"{json.load(open('$work/validate.json'))['results'][0]['mean']*1000:.2f}\")")

python3 - "$results" "$validate_ms" "$items" "$wrk_secs" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
validate_ms, items, wrk_secs = sys.argv[2], sys.argv[3], sys.argv[4]
rate = {}
print(f"\n{'tool':<12} {'requests':>9} {'seconds':>9} {'req/s':>10} {'peak RSS':>10}")
for r in rows:
    name = r[0]
    if name.startswith("wrk"):
        rate[name] = float(r[4])
        print(f"{name:<12} {'-':>9} {wrk_secs + 's each':>9} {rate[name]:>10.0f} {'-':>10}")
        continue
    n, secs, rss = int(r[1]), float(r[2]), int(r[3])
    rate[name] = n / secs
    print(f"{name:<12} {n:>9} {secs:>9.3f} {rate[name]:>10.0f} {rss/1024:>8.1f}MiB")
print()
if "oha-c32" in rate:
    print(f"whisk c=32 / oha c=32:  {rate['whisk-c32'] / rate['oha-c32']:.2f}   (target >= 0.60; the same requests, start-up included)")
if "wrk-c32" in rate:
    print(f"whisk c=32 / wrk c=32:  {rate['whisk-c32'] / rate['wrk-c32']:.2f}   (target >= 0.60; wrk's steady state over {wrk_secs}s)")
if "hurl" in rate:
    print(f"whisk c=1  / hurl:      {rate['whisk-c1'] / rate['hurl']:.2f}   (target >= 1.00)")
if "newman" in rate:
    print(f"whisk c=1  / newman:    {rate['whisk-c1'] / rate['newman']:.2f}")
print(f"whisk validate:         {validate_ms} ms   (target < 10 ms)")
if items != "10000":
    print(f"(the rate targets are for 10,000 items: with {items}, start-up and the report weigh more)")
rss32 = [int(r[3]) for r in rows if r[0] == "whisk-c32"][0] / 1024
print(f"whisk peak RSS, {items} items with report: {rss32:.1f} MiB   (target < 40 MiB at 10,000 items)")
PY
