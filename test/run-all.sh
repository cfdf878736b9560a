#!/usr/bin/env bash
# `npm test`: builds the addon if it is missing, then runs every suite — the type check, the native
# C++ tests under ASan/UBSan, and Bun's unit and integration tests — and ends with the summed line
# "N passed, N failed". Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bun="node_modules/.bin/bun"
passed=0
failed=0
logs="$(mktemp -d)"

count() { # count <passed> <failed> <suite>
  passed=$((passed + $1)); failed=$((failed + $2))
  echo "--- $3: $1 passed, $2 failed"
}

# The integration suites drive real Debian tools; install the missing ones (as CI does) when we can.
need=()
for tool in redis-server:redis-server redis-cli:redis-tools curl:curl openssl:openssl python3:python3 g++:g++ iptables:iptables ip:iproute2 setpriv:util-linux node:nodejs chromium:chromium prometheus:prometheus promtool:prometheus; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "=== installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing tools: ${need[*]} (install them with apt-get; some integration tests will fail without them)"
  fi
fi

if [ ! -f build/Release/meshlet.node ]; then
  npx --no-install node-gyp rebuild -j 2 >"$logs/gyp.log" 2>&1 || { cat "$logs/gyp.log"; count 0 1 "addon build"; }
fi

echo "=== typecheck (tsc --noEmit)"
if npx --no-install tsc --noEmit -p .; then count 1 0 typecheck; else count 0 1 typecheck; fi

echo "=== native tests (ASan/UBSan)"
bash native/test/run.sh 2>&1 | tee "$logs/native.log"
if [[ "$(tail -n 1 "$logs/native.log")" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  count "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" native
else
  count 0 1 native
fi

echo "=== bun test"
"$bun" test --timeout 60000 "$@" 2>&1 | tee "$logs/bun.log"
status=${PIPESTATUS[0]}
bun_passed=$(grep -E '^ *[0-9]+ pass$' "$logs/bun.log" | tail -n 1 | tr -dc '0-9')
bun_failed=$(grep -E '^ *[0-9]+ fail$' "$logs/bun.log" | tail -n 1 | tr -dc '0-9')
bun_failed=${bun_failed:-0}
if [ -z "$bun_passed" ] || { [ "$status" -ne 0 ] && [ "$bun_failed" -eq 0 ]; }; then bun_failed=$((bun_failed + 1)); fi
count "${bun_passed:-0}" "$bun_failed" "bun test"

rm -rf "$logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
