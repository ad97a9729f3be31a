#!/usr/bin/env bash
# Interop: start panva/oidc-provider (an OpenID-certified OAuth 2.0 server, from npm) on
# 127.0.0.1, run whisk's interop tests against it, and stop it.
#
#   bash interop/run.sh [extra cargo test arguments]
#
# Needs Node.js 20 or later and npm (the registry only: `npm ci` installs what
# package-lock.json pins). The tests read the issuer URL from WHISK_OIDC_URL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
server="$here/oidc-provider"

echo "interop: installing oidc-provider (npm ci)"
(cd "$server" && npm ci --no-audit --no-fund --loglevel=error)

log="$(mktemp -d)"
node "$server/server.mjs" 0 >"$log/out" 2>"$log/err" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$log"
}
trap cleanup EXIT

url=""
for _ in $(seq 1 150); do
  url="$(sed -n 's/^listening on //p' "$log/out")"
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "interop: oidc-provider exited before it listened:" >&2
    cat "$log/err" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "interop: oidc-provider did not listen within 15 s:" >&2
  cat "$log/err" >&2
  exit 1
fi
version="$(node -p "require('$server/node_modules/oidc-provider/package.json').version")"
echo "interop: oidc-provider $version (node $(node --version)) at $url"

cd "$root"
WHISK_OIDC_URL="$url" cargo test --test e2e interop "$@"
