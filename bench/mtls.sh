#!/usr/bin/env bash
# `npm run bench:mtls [-- --record]`: mTLS between two sidecars compared in one run — two meshlets (client
# side outbound → server side inbound, certificates from `meshlet identity`) against two HAProxy 2.6 doing
# the same mTLS, and direct: HTTP/1.1 keep-alive (wrk -c50: req/s, p99), new mTLS connections per second
# (wrk with "Connection: close" through a TCP path), iperf3 bulk through an opaque port; the CPU of both
# proxies together per request / connection / GB. Appends to bench/RESULTS.md only with --record.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=mtls
# shellcheck source=bench/lib/common.sh
. bench/lib/common.sh
DURATION_S=${DURATION_S:-10}
IPERF_S=${IPERF_S:-5}
ROUNDS=${ROUNDS:-3}
CLIENT_ID=app.default.serviceaccount.identity.linkerd.cluster.local
SERVER_ID=web.default.serviceaccount.identity.linkerd.cluster.local
HOST=web.default.svc.cluster.local

usage() {
  cat <<USAGE
Usage: bash bench/mtls.sh [--record]     (npm run bench:mtls [-- --record])

mTLS between two sidecars, in one run, ROUNDS=$ROUNDS rotating rounds (medians reported):
  meshlet  wrk/iperf3 → client-side meshlet (outbound listener targets, MESHLET_OUTBOUND_UPSTREAMS, naming
           services whose EndpointSlices carry meshlet.io/identity) → mTLS → server-side meshlet (inbound)
           → nginx (1 worker, 17-byte body) / iperf3 -s. Certificates from \`meshlet identity init/issue\`.
  haproxy  wrk/iperf3 → HAProxy 2.6 ("server ... ssl crt client.pem ca-file ca.crt verify required
           sni str(<id>) verifyhost <id> no-ssl-reuse") → HAProxy 2.6 ("bind ... ssl crt server.pem ca-file
           ca.crt verify required") → the same origins; nbthread 1 each, TLS 1.3, the same certificates.
  direct   wrk/iperf3 → the origins.
Measured:
  - keep-alive: wrk -t1 -c50 -d${DURATION_S}s (DURATION_S), Host: $HOST: req/s, p99, and the CPU µs per
    request of the two proxies together (utime+stime from /proc of both processes ÷ requests);
    HAProxy mode http with http-reuse always; meshlet's HTTP engines (pooled mTLS upstream).
  - new connections: wrk -t1 -c50 -d${DURATION_S}s -H "Connection: close" through a TCP path (HAProxy
    mode tcp; meshlet: a listener target on an opaque port), so every request is a new client connection
    and a new mTLS connection (full handshake) between the proxies: conn/s and CPU µs per connection.
  - bulk: iperf3 -t $IPERF_S (IPERF_S) through an opaque port (in MESHLET_OPAQUE_PORTS on both meshlets;
    HAProxy mode tcp with ssl both sides): Gbit/s and CPU s per GB of both proxies.
  The keep-alive CPU per request is also printed by side (client-side proxy, server-side proxy).
KINDS="keepalive" (a subset of "keepalive close iperf") runs only those tests (the warm-up runs all).
Each meshlet leg is checked to be mTLS: the script reads the
server-side meshlets' /metrics (inbound_tcp_detect_http_results_total{result="mesh_tls"}, inbound
tcp_open_total{tls="true"}) after a probe and prints "plaintext (not mTLS: check the configuration)" instead
of a ratio when that leg was not TLS. The keep-alive leg is checked the same way (inbound request_total
{tls="true",client_id="$CLIENT_ID"}); a plaintext HTTP leg stops the run.
Installs wrk, nginx-light, haproxy, iperf3 and curl with apt-get when they are missing.

Options:
  --record     append the result table to bench/RESULTS.md (default: only print it)
  -h, --help   show this help
USAGE
}
bench_parse_args "$@"

bench_need_tools wrk:wrk nginx:nginx-light haproxy:haproxy iperf3:iperf3 curl:curl python3:python3
[ -f build/Release/meshlet.node ] || npx --no-install node-gyp rebuild -j 2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
BUN=$ROOT/node_modules/.bin/bun

bench_workdir

# --- certificates: `meshlet identity` makes the trust anchor, the issuer and both workloads' leaves.
"$BUN" src/cli.ts identity init --trust-domain cluster.local --out "$WORK/ca" >/dev/null
for who in client server; do
  id=$([ $who = server ] && echo $SERVER_ID || echo $CLIENT_ID)
  "$BUN" src/cli.ts identity issue --ca "$WORK/ca" --name "$id" --out "$WORK/$who" --valid 24h >/dev/null
  cat "$WORK/$who/tls.crt" "$WORK/$who/tls.key" >"$WORK/$who/haproxy.pem"
done
progress "certificates from meshlet identity in $WORK: $CLIENT_ID, $SERVER_ID"

# --- ports: 18 consecutive, checked free. Three TCP paths (http, conn, bulk) per proxy pair.
bench_free_ports 18
ORIGIN=$BASE IPERF=$((BASE + 1))
CLIENT_ADMIN=$((BASE + 2)) CLIENT_HTTP=$((BASE + 3)) CLIENT_CONN=$((BASE + 4)) CLIENT_BULK=$((BASE + 5))
SRV_HTTP=$((BASE + 6)) SRV_HTTP_ADMIN=$((BASE + 7)) SRV_CONN=$((BASE + 8)) SRV_CONN_ADMIN=$((BASE + 9))
SRV_BULK=$((BASE + 10)) SRV_BULK_ADMIN=$((BASE + 11))
HC_HTTP=$((BASE + 12)) HC_CONN=$((BASE + 13)) HC_BULK=$((BASE + 14)) HS_HTTP=$((BASE + 15)) HS_CONN=$((BASE + 16)) HS_BULK=$((BASE + 17))
progress "ports: origin $ORIGIN, iperf3 $IPERF; meshlet client $CLIENT_HTTP/$CLIENT_CONN/$CLIENT_BULK (admin $CLIENT_ADMIN), servers $SRV_HTTP/$SRV_CONN/$SRV_BULK (admin $SRV_HTTP_ADMIN/$SRV_CONN_ADMIN/$SRV_BULK_ADMIN); haproxy $HC_HTTP/$HC_CONN/$HC_BULK → $HS_HTTP/$HS_CONN/$HS_BULK"

# --- origins: nginx (as http.sh) and iperf3.
nginx_conf origin "server { listen 127.0.0.1:$ORIGIN; location / { default_type text/plain; return 200 \"hello from nginx\\n\"; } }"
start_nginx origin
start iperf3-server iperf3 -s -p "$IPERF"

# --- HAProxy pair: mode http with reuse for keep-alive, mode tcp for new connections and bulk.
cat >"$WORK/haproxy-client.cfg" <<CONF
global
  nbthread 1
  maxconn 4000
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend http
  mode http
  bind 127.0.0.1:$HC_HTTP
  default_backend http
backend http
  mode http
  http-reuse always
  server s 127.0.0.1:$HS_HTTP ssl crt $WORK/client/haproxy.pem ca-file $WORK/client/ca.crt verify required sni str($SERVER_ID) verifyhost $SERVER_ID ssl-min-ver TLSv1.3 no-ssl-reuse
listen conn
  mode tcp
  bind 127.0.0.1:$HC_CONN
  server s 127.0.0.1:$HS_CONN ssl crt $WORK/client/haproxy.pem ca-file $WORK/client/ca.crt verify required sni str($SERVER_ID) verifyhost $SERVER_ID ssl-min-ver TLSv1.3 no-ssl-reuse
listen bulk
  mode tcp
  bind 127.0.0.1:$HC_BULK
  server s 127.0.0.1:$HS_BULK ssl crt $WORK/client/haproxy.pem ca-file $WORK/client/ca.crt verify required sni str($SERVER_ID) verifyhost $SERVER_ID ssl-min-ver TLSv1.3 no-ssl-reuse
CONF
cat >"$WORK/haproxy-server.cfg" <<CONF
global
  nbthread 1
  maxconn 4000
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend http
  mode http
  bind 127.0.0.1:$HS_HTTP ssl crt $WORK/server/haproxy.pem ca-file $WORK/server/ca.crt verify required ssl-min-ver TLSv1.3
  default_backend http
backend http
  mode http
  http-reuse always
  server o 127.0.0.1:$ORIGIN
listen conn
  mode tcp
  bind 127.0.0.1:$HS_CONN ssl crt $WORK/server/haproxy.pem ca-file $WORK/server/ca.crt verify required ssl-min-ver TLSv1.3
  server o 127.0.0.1:$ORIGIN
listen bulk
  mode tcp
  bind 127.0.0.1:$HS_BULK ssl crt $WORK/server/haproxy.pem ca-file $WORK/server/ca.crt verify required ssl-min-ver TLSv1.3
  server o 127.0.0.1:$IPERF
CONF
start haproxy-server haproxy -f "$WORK/haproxy-server.cfg" -db
HAPROXY_SERVER_PID=${PIDS[-1]}
start haproxy-client haproxy -f "$WORK/haproxy-client.cfg" -db
HAPROXY_CLIENT_PID=${PIDS[-1]}

# --- meshlets: one client side; a server side per path (an inbound listener forwards to one app).
# EndpointSlices (MESHLET_CONFIG_DIR of the client side): web, conn and bulk, each one meshed endpoint.
mkdir -p "$WORK/discovery"
slice() { # service, port
  cat >"$WORK/discovery/$1.yaml" <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $1-x1
  namespace: default
  labels: {kubernetes.io/service-name: $1}
  annotations: {meshlet.io/identity: $SERVER_ID}
addressType: IPv4
ports:
- {name: tcp, port: $2, protocol: TCP}
endpoints:
- addresses: [127.0.0.1]
YAML
}
slice web "$SRV_HTTP"
slice conn "$SRV_CONN"
slice bulk "$SRV_BULK"
# Opaque on loopback: the ports a connection is destined to — the server sides' inbound listeners as
# the client side dials them, and the apps (nginx for the conn path, iperf3) as the server sides forward.
DEFAULT_OPAQUE=$("$BUN" src/cli.ts env --markdown | awk -F'|' '/MESHLET_OPAQUE_PORTS/ { gsub(/[ `]/, "", $3); print $3 }')
start_meshlet() { # log, identity dir, admin port, inbound port, ENV=VALUE...
  local log=$1 who=$2 admin=$3 inbound=$4
  shift 4
  start "$log" env MESHLET_INBOUND_LISTEN="127.0.0.1:$inbound" MESHLET_OUTBOUND_LISTEN=127.0.0.1:0 \
    MESHLET_ADMIN_LISTEN="127.0.0.1:$admin" MESHLET_TAP_LISTEN=127.0.0.1:0 MESHLET_LOG_LEVEL=warn \
    MESHLET_IDENTITY_TRUST_ANCHORS="$WORK/$who/ca.crt" MESHLET_IDENTITY_CERT="$WORK/$who/tls.crt" MESHLET_IDENTITY_KEY="$WORK/$who/tls.key" \
    "$@" "$ROOT/bin/meshlet" proxy
}
start_meshlet meshlet-server-http server "$SRV_HTTP_ADMIN" "$SRV_HTTP" MESHLET_INBOUND_FORWARD="127.0.0.1:$ORIGIN"
SRV_HTTP_PID=${PIDS[-1]}
start_meshlet meshlet-server-conn server "$SRV_CONN_ADMIN" "$SRV_CONN" MESHLET_INBOUND_FORWARD="127.0.0.1:$ORIGIN" \
  MESHLET_OPAQUE_PORTS="$DEFAULT_OPAQUE,$ORIGIN,$SRV_CONN"
SRV_CONN_PID=${PIDS[-1]}
start_meshlet meshlet-server-bulk server "$SRV_BULK_ADMIN" "$SRV_BULK" MESHLET_INBOUND_FORWARD="127.0.0.1:$IPERF" \
  MESHLET_OPAQUE_PORTS="$DEFAULT_OPAQUE,$IPERF,$SRV_BULK"
SRV_BULK_PID=${PIDS[-1]}
# The client side's inbound listener is unused (an ephemeral port).
start_meshlet meshlet-client client "$CLIENT_ADMIN" 0 MESHLET_CONFIG_DIR="$WORK/discovery" \
  MESHLET_OPAQUE_PORTS="$DEFAULT_OPAQUE,$IPERF,$SRV_CONN,$SRV_BULK" \
  MESHLET_OUTBOUND_UPSTREAMS="127.0.0.1:$CLIENT_HTTP=$HOST:80,127.0.0.1:$CLIENT_CONN=conn.default.svc.cluster.local:80,127.0.0.1:$CLIENT_BULK=bulk.default.svc.cluster.local:5201"
CLIENT_PID=${PIDS[-1]}

wait_chain() { # port: the nginx answer through the whole chain (≤ 10 s), else the logs and exit
  for _ in $(seq 1 200); do
    [ "$(curl -s -m 2 -H "Host: $HOST" "http://127.0.0.1:$1/" 2>/dev/null)" = "hello from nginx" ] && return 0
    sleep 0.05
  done
  echo "bench/mtls.sh: no answer through port $1; logs in $WORK:" >&2
  tail -n 5 "$WORK"/*.log >&2
  exit 1
}
for p in "$ORIGIN" "$CLIENT_HTTP" "$CLIENT_CONN" "$HC_HTTP" "$HC_CONN"; do wait_chain "$p"; done
progress "every chain answers (direct, meshlet, haproxy)"

# --- is meshlet's leg mTLS? Read the server side's /metrics before and after traffic.
metrics_sum() { # admin port, awk condition on the line → the sum of the matching samples
  curl -s -m 5 "http://127.0.0.1:$1/metrics" | awk "\$0 !~ /^#/ && ($2) { s += \$NF } END { printf \"%d\", s }"
}
tls_seen() { # admin port: connections the server side took over mTLS (terminated ClientHellos, tls="true" rows)
  metrics_sum "$1" '/^inbound_tcp_detect_http_results_total\{/ && /result="mesh_tls"/ || /^tcp_open_total\{/ && /direction="inbound"/ && /tls="true"/'
}
HTTP_TLS=$(metrics_sum "$SRV_HTTP_ADMIN" "/^request_total\\{/ && /direction=\"inbound\"/ && /tls=\"true\"/ && /client_id=\"$CLIENT_ID\"/")
[ "$HTTP_TLS" -gt 0 ] || { echo "bench/mtls.sh: the keep-alive leg between the meshlets is not mTLS (no inbound request_total{tls=\"true\"} on the server side)" >&2; exit 1; }

declare -A PORT=([direct/keepalive]=$ORIGIN [direct/close]=$ORIGIN [direct/iperf]=$IPERF
  [meshlet/keepalive]=$CLIENT_HTTP [meshlet/close]=$CLIENT_CONN [meshlet/iperf]=$CLIENT_BULK
  [haproxy/keepalive]=$HC_HTTP [haproxy/close]=$HC_CONN [haproxy/iperf]=$HC_BULK)
# The processes whose CPU a kind costs: both proxies of its path.
declare -A PIDS_OF=([meshlet/keepalive]="$CLIENT_PID $SRV_HTTP_PID" [meshlet/close]="$CLIENT_PID $SRV_CONN_PID" [meshlet/iperf]="$CLIENT_PID $SRV_BULK_PID"
  [haproxy/keepalive]="$HAPROXY_CLIENT_PID $HAPROXY_SERVER_PID" [haproxy/close]="$HAPROXY_CLIENT_PID $HAPROXY_SERVER_PID" [haproxy/iperf]="$HAPROXY_CLIENT_PID $HAPROXY_SERVER_PID")
ticks_of() { local total=0 pid; for pid in $1; do total=$((total + $(cpu_ticks "$pid"))); done; echo "$total"; }

declare -A RATE P99 CPU ERRS CPU_CLIENT CPU_SERVER
measure() { # key target kind
  local key=$1 t=$2 kind=$3 out before=0 after=0 units pids=${PIDS_OF[$2/$3]:-} client_before=0 client_after=0
  [ -n "$pids" ] && before=$(ticks_of "$pids") && client_before=$(ticks_of "${pids%% *}")
  case $kind in
    keepalive) out=$(wrk -t1 -c50 -d"${DURATION_S}s" --latency -H "Host: $HOST" "http://127.0.0.1:${PORT[$t/$kind]}/" 2>&1) ;;
    close) out=$(wrk -t1 -c50 -d"${DURATION_S}s" --latency -H "Host: $HOST" -H "Connection: close" "http://127.0.0.1:${PORT[$t/$kind]}/" 2>&1) ;;
    iperf) out=$(iperf3 -c 127.0.0.1 -p "${PORT[$t/$kind]}" -t "$IPERF_S" -J 2>&1 || true) ;;
  esac
  [ -n "$pids" ] && after=$(ticks_of "$pids") && client_after=$(ticks_of "${pids%% *}")
  if [ "$kind" = iperf ]; then
    read -r RATE[$key] units < <(iperf3_result <<<"$out")
    [ "${RATE[$key]}" != "-" ] || ERRS[$key]="iperf3: $(grep -o '"error":.*' <<<"$out" | head -n 1); "
    P99[$key]=-
    CPU[$key]=$(cpu_per_unit $((after - before)) "$units" 1)
  else
    units=$(awk '/requests in/ { print $1 }' <<<"$out")
    RATE[$key]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    P99[$key]=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    ERRS[$key]=$(awk '/Non-2xx|Socket errors/ { $1 = $1; printf "%s; ", $0 }' <<<"$out")
    CPU[$key]=$(cpu_per_unit $((after - before)) "${units:-0}" 1e6)
    # The same CPU split by side: the client-side proxy (the first pid) and the server side.
    CPU_CLIENT[$key]=$(cpu_per_unit $((client_after - client_before)) "${units:-0}" 1e6)
    CPU_SERVER[$key]=$(cpu_per_unit $((after - before - client_after + client_before)) "${units:-0}" 1e6)
  fi
  [ -n "$pids" ] || CPU[$key]=-
}

# Warm up every path; the warm-up of meshlet's TCP paths is the probe that says whether they are mTLS.
TARGETS=(direct meshlet haproxy)
read -r -a KINDS <<<"${KINDS:-keepalive close iperf}"
CONN_TLS_BEFORE=$(tls_seen "$SRV_CONN_ADMIN") BULK_TLS_BEFORE=$(tls_seen "$SRV_BULK_ADMIN")
for t in "${TARGETS[@]}"; do
  progress "warm-up: $t (2 s keep-alive, 1 s close, 1 s iperf3)"
  wrk -t1 -c50 -d2s -H "Host: $HOST" "http://127.0.0.1:${PORT[$t/keepalive]}/" >/dev/null 2>&1
  wrk -t1 -c50 -d1s -H "Host: $HOST" -H "Connection: close" "http://127.0.0.1:${PORT[$t/close]}/" >/dev/null 2>&1
  iperf3 -c 127.0.0.1 -p "${PORT[$t/iperf]}" -t 1 >/dev/null 2>&1 || progress "iperf3 through $t failed in the warm-up"
done
leg() { [ "$1" -gt "$2" ] && echo mtls || echo plaintext; }
CONN_LEG=$(leg "$(tls_seen "$SRV_CONN_ADMIN")" "$CONN_TLS_BEFORE")
BULK_LEG=$(leg "$(tls_seen "$SRV_BULK_ADMIN")" "$BULK_TLS_BEFORE")
progress "meshlet legs: keep-alive mtls, new connections $CONN_LEG, bulk $BULK_LEG (server sides' /metrics)"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RUNS=$((ROUNDS * ${#KINDS[@]} * ${#TARGETS[@]}))
n=0
for r in $(seq 1 "$ROUNDS"); do
  for kind in "${KINDS[@]}"; do
    for i in "${!TARGETS[@]}"; do
      t=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]}
      progress "run $((++n))/$RUNS (round $r/$ROUNDS): $t $kind"
      measure "$t/$kind/$r" "$t" "$kind"
      # TIME_WAIT sockets of the close runs and the kernel settle a moment between runs.
      [ "$kind" = keepalive ] || sleep 1
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

for t in "${TARGETS[@]}"; do
  for kind in "${KINDS[@]}"; do
    for metric in RATE P99 CPU CPU_CLIENT CPU_SERVER; do
      declare -n m=$metric
      vals=()
      for r in $(seq 1 "$ROUNDS"); do vals+=("${m[$t/$kind/$r]:--}"); done
      m[$t/$kind]=$(median "${vals[@]}")
      unset -n m
    done
    errs=""
    for r in $(seq 1 "$ROUNDS"); do errs+="${ERRS[$t/$kind/$r]:-}"; done
    ERRS[$t/$kind]=$errs
  done
done

# ratios KEY KIND: the meshlet row's ratios vs HAProxy, or why there is none (its leg was plaintext).
ratios() {
  local t=$1 kind=$2 leg=mtls
  [ "$kind" = close ] && leg=$CONN_LEG
  [ "$kind" = iperf ] && leg=$BULK_LEG
  if [ "$t" = meshlet ] && [ "$leg" = plaintext ]; then
    echo "plaintext (not mTLS: check the configuration) | plaintext (not mTLS: check the configuration)"
  else
    echo "$(ratio "${RATE[$t/$kind]}" "${RATE[haproxy/$kind]}") | $(ratio "${CPU[$t/$kind]}" "${CPU[haproxy/$kind]}")"
  fi
}
{
  echo
  echo "## mTLS between two sidecars: meshlet vs HAProxy — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r), shared (load average $LOAD_BEFORE before, $LOAD_AFTER after); Bun $("$BUN" --version), $(haproxy -v | head -1 | awk '{ print $1, $3 }'), $(nginx -v 2>&1 | sed 's/.*: //'), $(iperf3 --version | head -1 | awk '{ print $1, $2 }')."
  echo "Command: \`DURATION_S=$DURATION_S IPERF_S=$IPERF_S ROUNDS=$ROUNDS bash bench/mtls.sh --record\` — client → client-side proxy → mTLS (TLS 1.3, ECDSA P-256 chain from \`meshlet identity\`, client certificate required, exact server identity) → server-side proxy → nginx (1 worker, 17-byte body) / iperf3; medians of $ROUNDS rotating rounds; CPU = utime+stime of both proxies' processes from /proc over the run. meshlet: outbound listener targets naming services whose EndpointSlices carry \`meshlet.io/identity\`; HAProxy 2.6: nbthread 1 each, \`verify required\`, \`no-ssl-reuse\`. Details: \`bash bench/mtls.sh --help\`."
  echo
  echo "| test | target | rate | p99 ms | CPU of both proxies | rate ÷ HAProxy | CPU ÷ HAProxy | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  for kind in "${KINDS[@]}"; do
    case $kind in
      keepalive) what="keep-alive -c50" unit="req/s" cpu_unit="µs/req" ;;
      close) what="new mTLS conn -c50" unit="conn/s" cpu_unit="µs/conn" ;;
      iperf) what="iperf3 bulk" unit="Gbit/s" cpu_unit="CPU s/GB" ;;
    esac
    for t in "${TARGETS[@]}"; do
      k=$t/$kind
      echo "| $what | $t | ${RATE[$k]} $unit | ${P99[$k]} | ${CPU[$k]}$([ "${CPU[$k]}" = - ] || echo " $cpu_unit") | $(ratios "$t" "$kind") | ${ERRS[$k]} |"
    done
  done
  echo
  echo "CPU per request by side (keep-alive, medians): meshlet client side ${CPU_CLIENT[meshlet/keepalive]:--} µs + server side ${CPU_SERVER[meshlet/keepalive]:--} µs; HAProxy client side ${CPU_CLIENT[haproxy/keepalive]:--} µs + server side ${CPU_SERVER[haproxy/keepalive]:--} µs."
  echo
  echo "meshlet's legs as the server sides' /metrics saw them: keep-alive mTLS; new connections $CONN_LEG; bulk $BULK_LEG."
  echo
} | tee "$WORK/result.md"

bench_record_if_asked "$WORK/result.md"
exit 0
