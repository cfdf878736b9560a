#!/usr/bin/env bash
# `npm run bench:h2 [-- --record]`: h2c (HTTP/2 prior knowledge) proxying compared in one run — direct
# to an nginx h2c origin, through meshlet (the real sidecar: front door sniffs the preface, the HTTP/2
# engine proxies per stream over pooled upstream h2) and through HAProxy 2.6 (h2 both sides, nbthread 1)
# — with h2load -t1 -m10 at -c10 and -c100 for DURATION_S in ROUNDS rotating rounds (medians), after
# a 2 s warm-up run of the same load, and the proxies' CPU µs per request (utime+stime from /proc over
# the measured run ÷ its requests; before session 7 one run per cell, its warm-up inside the CPU
# window). The machine load (/proc/loadavg) is printed with the table; the table is appended to
# bench/RESULTS.md only with --record.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=h2
source bench/lib/common.sh
DURATION_S=${DURATION_S:-10}
ROUNDS=${ROUNDS:-3}
RECORD=0
for arg in "$@"; do
  case $arg in
    --record) RECORD=1 ;;
    -h | --help) echo "Usage: bash bench/h2.sh [--record]   (DURATION_S=$DURATION_S per cell, ROUNDS=$ROUNDS rotating rounds per load level; medians reported)"; exit 0 ;;
    *) echo "bench/h2.sh: unknown argument '$arg' (see --help)" >&2; exit 64 ;;
  esac
done

bench_need_tools h2load:nghttp2-client nginx:nginx-light haproxy:haproxy curl:curl
[ -f build/Release/meshlet.node ] || npx --no-install node-gyp rebuild -j 2
BUN=$ROOT/node_modules/.bin/bun

bench_workdir
chmod 755 "$WORK" # nginx's workers (user nobody under root) read the origin's file from it
bench_free_ports 6
ORIGIN=$BASE HAPROXY=$((BASE + 1)) MESHLET=$((BASE + 2))
progress "ports: origin $ORIGIN, haproxy $HAPROXY, meshlet $MESHLET (outbound $((MESHLET + 1)), admin $((MESHLET + 2)), tap $((MESHLET + 3)))"

mkdir -p "$WORK/origin/files"
BIG_BYTES=$((1024 * 1024 * 1024))
truncate -s "$BIG_BYTES" "$WORK/origin/files/big" # sparse: 1 GiB of zeros, no disk
cat >"$WORK/origin/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/origin/nginx.pid;
error_log $WORK/origin/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  http2_max_requests 10000000;
  keepalive_requests 10000000;
  client_body_temp_path $WORK/origin/body;
  proxy_temp_path $WORK/origin/proxy;
  fastcgi_temp_path $WORK/origin/fcgi;
  uwsgi_temp_path $WORK/origin/uwsgi;
  scgi_temp_path $WORK/origin/scgi;
  server {
    listen 127.0.0.1:$ORIGIN http2;
    location = /big { root $WORK/origin/files; default_type application/octet-stream; }
    location / { default_type text/plain; return 200 "hello from nginx\n"; }
  }
}
CONF
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
  bind 127.0.0.1:$HAPROXY proto h2
  default_backend be
backend be
  server origin 127.0.0.1:$ORIGIN proto h2
CONF

start_nginx origin
start_haproxy
start meshlet env MESHLET_INBOUND_LISTEN="127.0.0.1:$MESHLET" MESHLET_INBOUND_FORWARD="127.0.0.1:$ORIGIN" \
  MESHLET_OUTBOUND_LISTEN="127.0.0.1:$((MESHLET + 1))" MESHLET_ADMIN_LISTEN="127.0.0.1:$((MESHLET + 2))" MESHLET_TAP_LISTEN="127.0.0.1:$((MESHLET + 3))" \
  MESHLET_LOG_LEVEL=warn "$ROOT/bin/meshlet" proxy
MESHLET_PID=${PIDS[-1]}
for p in "$ORIGIN" "$HAPROXY" "$MESHLET"; do wait_http "$p" --http2-prior-knowledge; done

# run NAME PORT CONNS PID(or -): one h2load run; prints "req/s succeeded failed cpu_us_per_req"
run() {
  local name=$1 port=$2 conns=$3 pid=$4 before=0 after=0
  [ "$pid" != - ] && before=$(cpu_ticks "$pid")
  h2load -t1 -c"$conns" -m10 -D "$DURATION_S" "http://127.0.0.1:$port/" >"$WORK/h2load-$name-$conns.txt" 2>&1 || true
  [ "$pid" != - ] && after=$(cpu_ticks "$pid")
  local out=$WORK/h2load-$name-$conns.txt
  local rps ok failed
  rps=$(awk '/^finished in/ { print $4 }' "$out")
  ok=$(awk '/^requests:/ { print $8 }' "$out")
  failed=$(awk '/^requests:/ { print $10 }' "$out")
  local cpu=-
  if [ "$pid" != - ] && [ "${ok:-0}" -gt 0 ]; then
    # CPU over the run ÷ the run's requests (each target was warmed up by its own run before).
    cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$ok" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  fi
  echo "${rps:-0} ${ok:-0} ${failed:-?} $cpu"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TARGETS=(direct meshlet haproxy)
declare -A PORT_OF=([direct]=$ORIGIN [meshlet]=$MESHLET [haproxy]=$HAPROXY) PID_OF=([direct]=- [meshlet]=$MESHLET_PID [haproxy]=$HAPROXY_PID)
# Per level: a 2 s warm-up run per target, then ROUNDS rounds with the target order rotated each round
# (no target always runs first or last); the table reports medians of req/s and CPU, summed requests.
declare -A RPS CPU OK FAILED
RUNS=$((2 * ROUNDS * ${#TARGETS[@]}))
n=0
for conns in 10 100; do
  for target in "${TARGETS[@]}"; do
    progress "warm-up: $target -c$conns -m10 for 2 s"
    h2load -t1 -c"$conns" -m10 -D 2 "http://127.0.0.1:${PORT_OF[$target]}/" >/dev/null 2>&1 || true
  done
  for r in $(seq 1 "$ROUNDS"); do
    for i in "${!TARGETS[@]}"; do
      target=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]}
      progress "run $((++n))/$RUNS (round $r/$ROUNDS): $target -c$conns -m10 for ${DURATION_S}s"
      read -r rps ok failed cpu <<<"$(run "$target" "${PORT_OF[$target]}" "$conns" "${PID_OF[$target]}")"
      RPS[$target-$conns]+=" $rps" CPU[$target-$conns]+=" $cpu"
      OK[$target-$conns]=$((${OK[$target-$conns]:-0} + ok))
      [ "$failed" = "?" ] && FAILED[$target-$conns]="?" || FAILED[$target-$conns]=$((${FAILED[$target-$conns]:-0} + failed))
    done
  done
done
declare -A R
for conns in 10 100; do
  for target in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086 # the per-round values, split on purpose
    R[$target-$conns]="$(median ${RPS[$target-$conns]}) ${OK[$target-$conns]} ${FAILED[$target-$conns]} $(median ${CPU[$target-$conns]})"
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

table() {
  echo "h2load -t1 -m10, ${DURATION_S}s per cell after a 2 s warm-up run, medians of $ROUNDS rotating rounds (succeeded and failed: summed), nginx h2c origin; $(nproc) cores; load average before $LOAD_BEFORE, after $LOAD_AFTER"
  echo
  echo "| target | conns | req/s | succeeded | failed | CPU µs/req | req/s vs HAProxy | CPU vs HAProxy |"
  echo "|---|---|---|---|---|---|---|---|"
  for conns in 10 100; do
    read -r h_rps _ _ h_cpu <<<"${R[haproxy-$conns]}"
    for target in direct meshlet haproxy; do
      read -r rps ok failed cpu <<<"${R[$target-$conns]}"
      local ratio cpu_ratio=-
      ratio=$(awk -v a="$rps" -v b="$h_rps" 'BEGIN { printf (b > 0 ? "%.2f×" : "-"), a / b }')
      [ "$cpu" != - ] && [ "$h_cpu" != - ] && cpu_ratio=$(awk -v a="$cpu" -v b="$h_cpu" 'BEGIN { printf (b > 0 ? "%.2f×" : "-"), a / b }')
      printf '| %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "$target" "$conns" "$rps" "$ok" "$failed" "$cpu" "$ratio" "$cpu_ratio"
    done
  done
}
# One 1 GiB response through one stream: byte count and digest, and meshlet's RSS growth (peak VmHWM
# after minus VmRSS before) — flow control must hold the body to the stream windows, not buffer it.
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$MESHLET_PID/status"; }
progress "1 GiB through one stream"
echo 5 >"/proc/$MESHLET_PID/clear_refs" # resets VmHWM to the current RSS (Linux ≥ 4.0)
RSS_BEFORE_KIB=$(kib VmRSS)
BIG_SHA_WANT=$(sha256sum "$WORK/origin/files/big" | cut -d' ' -f1)
BIG_GOT_BYTES=$(curl -sS --max-time 120 --http2-prior-knowledge -w '%{size_download}' -o >(sha256sum | cut -d' ' -f1 >"$WORK/big.sha") \
  "http://127.0.0.1:$MESHLET/big" 2>"$WORK/big.err")
sleep 0.5 # the digest process finishes reading
BIG_SHA_GOT=$(cat "$WORK/big.sha")
[ -s "$WORK/big.err" ] && progress "curl: $(cat "$WORK/big.err")"
progress "1 GiB: $BIG_GOT_BYTES bytes received, sha256 $BIG_SHA_GOT (want $BIG_SHA_WANT)"
RSS_PEAK_KIB=$(kib VmHWM)
BIG_LINE="1 GiB response through one meshlet stream: $([ "$BIG_SHA_GOT" = "$BIG_SHA_WANT" ] && echo "byte-exact (sha256 matches)" || echo "DIGEST MISMATCH"), RSS growth $(( (RSS_PEAK_KIB - RSS_BEFORE_KIB) / 1024 )) MB (VmHWM after − VmRSS before)"

TABLE="$(table)

$BIG_LINE"
echo "$TABLE"
if [ "$RECORD" = 1 ]; then
  {
    echo
    echo "## HTTP/2 (h2c) proxying — $(date -u +%Y-%m-%dT%H:%MZ) — \`npm run bench:h2\`"
    echo
    echo "Command: \`DURATION_S=$DURATION_S ROUNDS=$ROUNDS bash bench/h2.sh --record\`."
    echo
    echo "$TABLE"
  } >"$WORK/result.md"
  bench_record "$WORK/result.md"
  progress "appended to bench/RESULTS.md"
fi
