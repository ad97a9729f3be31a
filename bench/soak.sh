#!/usr/bin/env bash
# The fault soak: tests/e2e/fault_matrix.rs for longer, with whisk's own processes only — the
# shipped TIBCO enable recipe against `whisk sandbox` with sub-second tokens and a seeded random
# fault schedule (503, 429 + Retry-After, resets, hangs, revocation storms), over many seeds ×
# concurrency 1, 4, 16, 64 × one thread and the default threads. Each run is judged by the
# sandbox's counters (GET /_sandbox/stats): every child enabled exactly once, no invalid_grant,
# no token requested before the one it replaced was due, and the sandbox's request count equal
# to the report's attempts. Only 127.0.0.1 is used.
#
#   bench/soak.sh                        # 40 seeds (320 runs)
#   SOAK_SEEDS=200 SOAK_RATE=0.1 bench/soak.sh
#
# Variables: SOAK_SEEDS (40), SOAK_FIRST_SEED (1), SOAK_RATE (0.08), SOAK_CHILDREN (40),
# SOAK_LIFETIME (0.5 seconds), SOAK_LATENCY_MS (15), SOAK_PARALLEL (8 runs at once).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seeds="${SOAK_SEEDS:-40}"
first="${SOAK_FIRST_SEED:-1}"
rate="${SOAK_RATE:-0.08}"
children="${SOAK_CHILDREN:-40}"
lifetime="${SOAK_LIFETIME:-0.5}"
latency="${SOAK_LATENCY_MS:-15}"
parallel="${SOAK_PARALLEL:-8}"
work=$(mktemp -d)
# The work folder is removed unless a run failed: then it is kept for a look.
trap 'pkill -P $$ 2>/dev/null || true; [ -f "$work/keep" ] || rm -rf "$work"' EXIT

say() { printf '== %s\n' "$*" >&2; }
command -v curl >/dev/null || { echo "soak: needs curl" >&2; exit 2; }

say "building whisk (release)"
cargo build --release --locked --quiet
whisk="$root/target/release/whisk"

# The sandbox's data: the demo parent and `children` children, and request latency.
python3 - "$children" "$latency" > "$work/data.json" <<'PY'
import json, sys
n, latency = int(sys.argv[1]), int(sys.argv[2])
orgs = [{"locator": "100", "name": "Parent", "apps": [{"id": "a-1", "name": "order-sync"}]}]
orgs += [{"locator": str(100 + i), "name": f"child {100 + i}", "parent": "100"} for i in range(1, n + 1)]
print(json.dumps({"latency_ms": latency, "tibco": {"organizations": orgs}}))
PY
python3 -c "import json,sys; print(json.dumps([str(100 + i) for i in range(1, $children + 1)]))" > "$work/children.json"
# The shipped recipe with a request timeout short enough for the hangs (30 s otherwise).
sed 's/^  timeout: 30s$/  timeout: 1s/' recipes/tibco/enable-api-access.yaml > "$work/recipe.yaml"
grep -q '^  timeout: 1s$' "$work/recipe.yaml" || { echo "soak: the recipe's timeout moved" >&2; exit 2; }

# One case: its own sandbox, one whisk run, the verdict on one line of $work/verdicts.
one() {
  local seed=$1 concurrency=$2 threads=$3 dir="$work/case-$1-$2-$3"
  mkdir -p "$dir"
  "$whisk" sandbox --port 0 --data "$work/data.json" --token-lifetime "$lifetime" \
    --fault-rate "$rate" --fault-seed "$seed" > "$dir/sandbox.out" 2> /dev/null &
  local pid=$!
  local base=""
  for _ in $(seq 100); do
    base=$(sed -n 's/^whisk sandbox on \(http:[^ ]*\).*/\1/p' "$dir/sandbox.out")
    [ -n "$base" ] && break
    sleep 0.05
  done
  local thread_args=()
  [ "$threads" = one ] && thread_args=(--threads 1)
  local code=0
  TCI_CLIENT_ID=whisk-demo-client TCI_CLIENT_SECRET=whisk-demo-secret \
    TCI_REFRESH_TOKEN=whisk-demo-refresh-token WHISK_TOKEN_STORE="$dir/tokens" \
    "$whisk" run "$work/recipe.yaml" -q "${thread_args[@]}" \
      --input "base_url=$base/tci" --input "token_url=$base/idm/v1/oauth2/token" \
      --input "child_locators=$(cat "$work/children.json")" --input "concurrency=$concurrency" \
      --report "$dir/report.json" > "$dir/out.txt" 2> "$dir/err.txt" || code=$?
  curl -s "$base/_sandbox/stats" > "$dir/stats.json"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  python3 - "$dir" "$code" "$seed c=$concurrency threads=$threads" "$children" >> "$work/verdicts" <<'PY'
import json, sys
d, code, case, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
stats = json.load(open(f"{d}/stats.json"))
def attempts(v):
    if isinstance(v, dict):
        own = len(v.get("request", {}).get("attempts", [])) if isinstance(v.get("request"), dict) else 0
        return own + sum(attempts(x) for k, x in v.items() if k != "request")
    if isinstance(v, list):
        return sum(attempts(x) for x in v)
    return 0
problems = []
if code != 0:
    err = open(f"{d}/err.txt").read().strip().splitlines()
    problems.append(f"exit {code}: {err[-1] if err else ''}")
enables = stats.get("enables", {})
bad = [c for c in (str(100 + i) for i in range(1, n + 1)) if enables.get(c) != 1]
if bad:
    problems.append(f"children not enabled exactly once: {bad[:5]}")
if stats.get("token_errors", {}).get("tibco/invalid_grant", 0):
    problems.append("invalid_grant")
grants = stats.get("token_grants", {}).get("tibco", 0)
expiries = stats.get("token_expiries", {}).get("tibco", 0)
if grants > expiries + 1:
    problems.append(f"{grants} grants for {expiries} expiries")
sent = sum(v for k, v in stats["requests"].items() if k.startswith("/tci/v1/"))
try:
    reported = attempts(json.load(open(f"{d}/report.json")))
except Exception as e:
    reported = f"no report ({e})"
if sent != reported:
    problems.append(f"sandbox saw {sent} requests, report lists {reported} attempts")
faults = stats.get("faults_served", 0)
print(("FAIL " if problems else "ok   ") + f"{case}: {faults} faults, {grants} grants"
      + ("; " + "; ".join(problems) if problems else ""))
PY
}

: > "$work/verdicts"
total=0
say "$seeds seeds from $first × concurrency 1, 4, 16, 64 × threads one/default, rate $rate, tokens ${lifetime}s"
for seed in $(seq "$first" $((first + seeds - 1))); do
  for concurrency in 1 4 16 64; do
    for threads in one default; do
      one "$seed" "$concurrency" "$threads" &
      total=$((total + 1))
      while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do sleep 0.1; done
    done
  done
done
wait
failed=$(grep -c '^FAIL' "$work/verdicts" || true)
faults=$(awk '{for (i = 1; i <= NF; i++) if ($(i + 1) == "faults,") s += $i} END {print s + 0}' "$work/verdicts")
grep '^FAIL' "$work/verdicts" >&2 || true
echo "soak: $total runs, $faults faults served, $failed failed"
if [ "$failed" != 0 ]; then
  touch "$work/keep"
  echo "soak: the failed runs' reports, stderr and sandbox counters are in $work/case-SEED-CONCURRENCY-THREADS/" >&2
fi
[ "$failed" = 0 ]
