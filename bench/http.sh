#!/usr/bin/env bash
# `npm run bench:http [-- --record]`: HTTP/1.1 keep-alive proxying compared in one run — direct to nginx,
# meshlet (the real sidecar process), HAProxy 2.6 (mode http, nbthread 1, http-reuse always) and nginx as a proxy (upstream
# keepalive) — with wrk -t1 for DURATION_S at -c50 and -c200, the proxy's CPU µs per request (utime+stime
# from /proc over the run ÷ requests), plus -c1 added latency and meshlet's RSS at 1,000 open connections. Configs go to a temp dir; every process started here is stopped on exit.
# The table is printed; it is appended to bench/RESULTS.md only with --record.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=http
source bench/lib/common.sh
DURATION_S=${DURATION_S:-10}
ROUNDS=${ROUNDS:-3}
C1_DURATION_S=${C1_DURATION_S:-5}

usage() {
  cat <<USAGE
Usage: bash bench/http.sh [--record]     (npm run bench:http [-- --record])

HTTP/1.1 keep-alive proxying: direct to nginx, meshlet, HAProxy and nginx as a proxy, with wrk -t1
at -c50 and -c200 for DURATION_S=$DURATION_S s each in ROUNDS=$ROUNDS rotating rounds (medians reported), with
the proxies' CPU µs per request, -c1 for C1_DURATION_S=$C1_DURATION_S s, and meshlet's RSS at 1,000 connections. Installs wrk, nginx-light, haproxy and curl with apt-get when they are missing.

Options:
  --record     append the result table to bench/RESULTS.md (default: only print it)
  -h, --help   show this help

Optional extra targets in the same run:
  BENCH_OBSERVED=1        meshlet-observed: a second meshlet with MESHLET_ACCESS_LOG=json (stderr to
                          /dev/null) and one \`meshlet tap\` subscriber printing every request
  BENCH_BASELINE=DIR      meshlet-base: a third meshlet started from another built checkout (A/B of a change)
USAGE
}
bench_parse_args "$@"

bench_need_tools wrk:wrk nginx:nginx-light haproxy:haproxy curl:curl
[ -f build/Release/meshlet.node ] || npx --no-install node-gyp rebuild -j 2
BUN=$ROOT/node_modules/.bin/bun

bench_workdir
# Fifteen consecutive ports below the ephemeral range (32768+), checked free before use.
bench_free_ports 15
# origin, HAProxy, nginx, then per meshlet four ports: inbound, outbound, admin, tap.
ORIGIN=$BASE HAPROXY=$((BASE + 1)) NGINX_PROXY=$((BASE + 2)) MESHLET=$((BASE + 3))
progress "ports: origin $ORIGIN, meshlet $MESHLET (admin $((MESHLET + 2))), haproxy $HAPROXY, nginx proxy $NGINX_PROXY"

nginx_conf origin "server { listen 127.0.0.1:$ORIGIN; location / { default_type text/plain; return 200 \"hello from nginx\\n\"; } }"
nginx_conf proxy "upstream origin { server 127.0.0.1:$ORIGIN; keepalive 256; }
  server { listen 127.0.0.1:$NGINX_PROXY; location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
cat >"$WORK/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HAPROXY
  default_backend be
backend be
  server origin 127.0.0.1:$ORIGIN
CONF

start_nginx origin
start_nginx proxy nginx-proxy
start_haproxy
# The real sidecar: native front door (accept, sniff) hands each HTTP/1 connection to the engine.
# start_meshlet LOG CHECKOUT PORT [ENV=VALUE...]: one sidecar from CHECKOUT, inbound on PORT to the
# origin; its outbound, admin (and tap) listeners on the next ports.
start_meshlet() {
  local log=$1 checkout=$2 port=$3
  shift 3
  start "$log" env -C "$checkout" MESHLET_INBOUND_LISTEN="127.0.0.1:$port" MESHLET_INBOUND_FORWARD="127.0.0.1:$ORIGIN" \
    MESHLET_OUTBOUND_LISTEN="127.0.0.1:$((port + 1))" MESHLET_ADMIN_LISTEN="127.0.0.1:$((port + 2))" \
    MESHLET_LOG_LEVEL=warn "$@" "$checkout/bin/meshlet" proxy
}

MESHLET_ADMIN=$((MESHLET + 2))
start_meshlet meshlet "$ROOT" "$MESHLET" MESHLET_TAP_LISTEN="127.0.0.1:$((MESHLET + 3))"
MESHLET_PID=${PIDS[-1]}
NGINX_PROXY_PID=${PIDS[1]}
TARGETS=(direct meshlet haproxy nginx)
declare -A PORT=([direct]=$ORIGIN [meshlet]=$MESHLET [haproxy]=$HAPROXY [nginx]=$NGINX_PROXY)
declare -A PROXY_PID=([meshlet]=$MESHLET_PID [haproxy]=$HAPROXY_PID [nginx]=$NGINX_PROXY_PID)
if [ "${BENCH_OBSERVED:-0}" = 1 ]; then
  # The same sidecar with the json access log on (stderr to /dev/null: every line is still formatted
  # and written, without filling the disk) and one tap subscriber that decodes and prints every event.
  start_meshlet meshlet-observed "$ROOT" $((BASE + 7)) MESHLET_TAP_LISTEN="127.0.0.1:$((BASE + 10))" MESHLET_ACCESS_LOG=json \
    bash -c 'exec "$@" 2>/dev/null' stderr-to-null
  TARGETS+=(meshlet-observed) PORT[meshlet-observed]=$((BASE + 7)) PROXY_PID[meshlet-observed]=${PIDS[-1]}
fi
if [ -n "${BENCH_BASELINE:-}" ]; then
  [ -x "$BENCH_BASELINE/node_modules/.bin/bun" ] || { echo "bench/http.sh: BENCH_BASELINE=$BENCH_BASELINE is not a built checkout" >&2; exit 64; }
  start_meshlet meshlet-base "$BENCH_BASELINE" $((BASE + 11))
  TARGETS+=(meshlet-base) PORT[meshlet-base]=$((BASE + 11)) PROXY_PID[meshlet-base]=${PIDS[-1]}
fi
for t in "${TARGETS[@]}"; do wait_http "${PORT[$t]}"; done
if [ "${BENCH_OBSERVED:-0}" = 1 ]; then
  start tap-subscriber bash -c 'exec "$@" >/dev/null' stdout-to-null "$BUN" src/cli.ts tap --tap "127.0.0.1:$((BASE + 10))"
  sleep 1
  kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "bench/http.sh: the tap subscriber exited: $(cat "$WORK/tap-subscriber.log")" >&2; exit 1; }
fi

# to_ms "384.00us" → 0.384
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

declare -A RPS P50 P99 ERRS CPU_US
run() { # key, port, connections, duration
  local out target=${1%%/*} before=0 after=0 requests
  [ -n "${PROXY_PID[$target]:-}" ] && before=$(cpu_ticks "${PROXY_PID[$target]}")
  out=$(wrk -t1 -c"$3" -d"$4"s --latency "http://127.0.0.1:$2/" 2>&1)
  [ -n "${PROXY_PID[$target]:-}" ] && after=$(cpu_ticks "${PROXY_PID[$target]}")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  # The proxy's CPU µs per request over the run: the steadiest figure on a 2-core box.
  CPU_US[$1]=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="${requests:-0}" 'BEGIN { if (n > 0 && t > 0) printf "%.2f", t * 1e6 / hz / n; else print "-" }')
  RPS[$1]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  P50[$1]=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  P99[$1]=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  ERRS[$1]=$(awk '/Non-2xx|Socket errors/ { $1 = $1; printf "%s; ", $0 }' <<<"$out")
}

# Warm up every path (pools, JIT), then measure.
for t in "${TARGETS[@]}"; do
  progress "warm-up: $t (2 s)"
  wrk -t1 -c50 -d2s "http://127.0.0.1:${PORT[$t]}/" >/dev/null 2>&1
done
# ROUNDS rounds at -c50 and -c200, the target order rotated each round (no target always runs first
# or last); the table reports each figure's median over the rounds.
RUNS=$((ROUNDS * 2 * ${#TARGETS[@]} + ${#TARGETS[@]}))
n=0
for r in $(seq 1 "$ROUNDS"); do
  for c in 50 200; do
    for i in "${!TARGETS[@]}"; do
      t=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]}
      progress "run $((++n))/$RUNS (round $r/$ROUNDS): $t at -c$c for ${DURATION_S} s"
      run "$t/$c/$r" "${PORT[$t]}" "$c" "$DURATION_S"
    done
  done
done
for c in 50 200; do
  for t in "${TARGETS[@]}"; do
    for metric in RPS P50 P99 CPU_US; do
      declare -n m=$metric
      vals=()
      for r in $(seq 1 "$ROUNDS"); do vals+=("${m[$t/$c/$r]}"); done
      m[$t/$c]=$(median "${vals[@]}")
      unset -n m
    done
    errs=""
    for r in $(seq 1 "$ROUNDS"); do errs+="${ERRS[$t/$c/$r]}"; done
    ERRS[$t/$c]=$errs
  done
done
for t in "${TARGETS[@]}"; do
  progress "run $((++n))/$RUNS: $t at -c1 for ${C1_DURATION_S} s"
  run "$t/1" "${PORT[$t]}" 1 "$C1_DURATION_S"
done

# meshlet RSS with 1,000 open keep-alive connections (sampled in the middle of a -c1000 run).
progress "meshlet RSS at -c1000 (4 s)"
wrk -t1 -c1000 -d4s "http://127.0.0.1:$MESHLET/" >/dev/null 2>&1 &
WRK_PID=$!
sleep 2
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MESHLET_PID/status")
wait "$WRK_PID" || true

# Upstream keep-alive reuse over the whole run, from meshlet's pool counters in /metrics.
METRICS=$(curl -s "http://127.0.0.1:$MESHLET_ADMIN/metrics")
OPENED=$(awk '/^meshlet_http_upstream_connections_opened_total\{direction="inbound"\}/ { print $2 }' <<<"$METRICS")
DISPATCHED=$(awk '/^meshlet_http_upstream_requests_dispatched_total\{direction="inbound"\}/ { print $2 }' <<<"$METRICS")
REUSE=$(awk -v o="${OPENED:-0}" -v d="${DISPATCHED:-0}" 'BEGIN { if (d > 0) printf "%d upstream connections for %d requests (reuse %.4f%%)", o, d, 100 * (1 - o / d) }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }

{
  echo
  echo "## HTTP/1.1 keep-alive proxying — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r); Bun $("$BUN" --version), $(haproxy -v | head -1 | awk '{ print $1, $3 }'), $(nginx -v 2>&1 | sed 's/.*: //')."
  echo "Command: \`DURATION_S=$DURATION_S ROUNDS=$ROUNDS bash bench/http.sh --record\` — wrk -t1 -d${DURATION_S}s --latency against nginx (1 worker, 17-byte body), medians of $ROUNDS rotating rounds; meshlet = \`meshlet proxy\` inbound (native front door → HTTP engine, default filter chain); proxy CPU µs/req = utime+stime of the proxy process (and its workers) from /proc over the run ÷ requests."
  echo
  echo "| conns | target | req/s | p50 ms | p99 ms | proxy CPU µs/req | req/s ÷ HAProxy | req/s ÷ nginx proxy | p99 ÷ HAProxy | CPU/req ÷ HAProxy | CPU/req ÷ meshlet | errors |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for c in 50 200; do
    for t in "${TARGETS[@]}"; do
      k=$t/$c
      echo "| $c | $t | ${RPS[$k]} | ${P50[$k]} | ${P99[$k]} | ${CPU_US[$k]} | $(ratio "${RPS[$k]}" "${RPS[haproxy/$c]}") | $(ratio "${RPS[$k]}" "${RPS[nginx/$c]}") | $(ratio "${P99[$k]}" "${P99[haproxy/$c]}") | $(ratio "${CPU_US[$k]}" "${CPU_US[haproxy/$c]}") | $(ratio "${CPU_US[$k]}" "${CPU_US[meshlet/$c]}") | ${ERRS[$k]} |"
    done
  done
  echo
  echo "Added latency at -c1 (${C1_DURATION_S}s), ms over direct:"
  echo
  echo "| target | p50 ms | p99 ms | added p50 | added p99 |"
  echo "|---|---:|---:|---:|---:|"
  for t in "${TARGETS[@]}"; do
    echo "| $t | ${P50[$t/1]} | ${P99[$t/1]} | $(awk -v a="${P50[$t/1]}" -v b="${P50[direct/1]}" 'BEGIN { printf "%.3f", a - b }') | $(awk -v a="${P99[$t/1]}" -v b="${P99[direct/1]}" 'BEGIN { printf "%.3f", a - b }') |"
  done
  echo
  echo "meshlet RSS with 1,000 open connections: $((RSS_KB / 1024)) MB; ${REUSE:-reuse not reported}"
  echo
} | tee "$WORK/result.md"

bench_record_if_asked "$WORK/result.md"
exit 0
