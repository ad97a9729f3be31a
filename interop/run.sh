#!/usr/bin/env bash
# Interop: start panva/oidc-provider (an OpenID-certified OAuth 2.0 server, from npm) on
# 127.0.0.1, run whisk's interop tests against it, and stop it.
#
#   bash interop/run.sh [extra cargo test arguments]
#
# Needs Node.js 20 or later and npm (the registry only: `npm ci` installs what
# package-lock.json pins). The tests read the issuer URL from WHISK_OIDC_URL, and the
# directory holding the server's freshly made private keys (rsa.pem, ec.pem: PKCS#8 PEM)
# from WHISK_INTEROP_KEYS; both the log and the key directory are removed at exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
server="$here/oidc-provider"

echo "interop: installing oidc-provider (npm ci)"
(cd "$server" && npm ci --no-audit --no-fund --loglevel=error)

pid=""
log="$(mktemp -d)"
keys="$(mktemp -d)"
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$log" "$keys"
}
trap cleanup EXIT
WHISK_INTEROP_KEYS="$keys" node "$server/server.mjs" 0 >"$log/out" 2>"$log/err" &
pid=$!

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
for key in rsa.pem ec.pem; do
  if [ ! -s "$keys/$key" ]; then
    echo "interop: oidc-provider listened but wrote no $keys/$key" >&2
    exit 1
  fi
done
version="$(node -p "require('$server/node_modules/oidc-provider/package.json').version")"
echo "interop: oidc-provider $version (node $(node --version)) at $url"

cd "$root"
WHISK_OIDC_URL="$url" WHISK_INTEROP_KEYS="$keys" cargo test --test e2e interop "$@"
