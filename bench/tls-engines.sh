#!/usr/bin/env bash
# `bash bench/tls-engines.sh [--record]`: where should meshlet's mTLS run? Compares TLS 1.3 mTLS engines
# in the two-proxy topology — wrk/iperf3 → hop A (plaintext in, mTLS out) → hop B (mTLS in, plaintext
# out) → nginx/iperf3 — in one run: Bun's TLS sockets, the front door's fd adopted by Bun with node:tls,
# OpenSSL on an addon thread (relaying natively, or handing the plaintext to Bun through a socketpair)
# and two HAProxy 2.6 instances. Reports keep-alive req/s, new mTLS connections/s, iperf3 bulk, and each
# hop's CPU per request / connection / GB. Appends to bench/RESULTS.md only with --record.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=tls-engines
# shellcheck source=bench/lib/common.sh
. bench/lib/common.sh
DURATION_S=${DURATION_S:-5}
IPERF_S=${IPERF_S:-5}
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-bun bun-adopted bun-spliced native-bun native haproxy}

usage() {
  cat <<USAGE
Usage: bash bench/tls-engines.sh [--record]

TLS 1.3 mTLS engines for meshlet, compared in one run in the two-proxy topology
  client → hop A (plaintext in, mTLS out) → hop B (mTLS in, plaintext out) → nginx (HTTP) / iperf3 -s
Engines (hop A / hop B, each hop its own process):
  bun          Bun.listen + Bun.connect with tls (client cert, exact server identity) / Bun.listen with
               tls (requestCert, CA, TLS 1.3 only); JavaScript relays the plaintext
  bun-adopted  as bun / the native front door accepts and sniffs the ClientHello, Bun adopts the fd and
               node:tls terminates over it (new TLSSocket({ isServer }) on a Duplex)
  bun-spliced  as bun / the native front door accepts and sniffs, then splice(2)s the connection to an
               internal Bun.listen with tls on 127.0.0.1 (Bun's TLS behind one more local hop)
  native-bun   OpenSSL on an addon epoll thread (bench/tls-relay), the plaintext side a socketpair
               adopted by Bun, which relays it — what HTTP over mTLS would cost (the HTTP engine reads it)
  native       OpenSSL on the addon thread relaying both sides natively — the opaque (non-HTTP) path
  haproxy      HAProxy 2.6, mode tcp, nbthread 1: "server ... ssl crt ... ca-file ... verify required
               verifyhost ... no-ssl-reuse" / "bind ... ssl crt ... ca-file ... verify required"
Measured per engine, ROUNDS=$ROUNDS rotating rounds, medians (and the range) reported:
  - wrk -t1 -c50 -d${DURATION_S}s keep-alive HTTP/1.1 (DURATION_S): req/s and each hop's CPU µs per request
  - wrk -t1 -c50 -d${DURATION_S}s with "Connection: close": every request a new TCP + full mTLS handshake
    between the hops (no resumption): connections/s and each hop's CPU µs per connection
  - iperf3 -t ${IPERF_S} (IPERF_S) through the same kind of hops: Gbit/s and each hop's CPU s per GB
CPU = utime+stime of the hop's process from /proc over the run. ENGINES="$ENGINES" selects engines.
Certificates (ECDSA P-256, trust anchor → issuer → leaf, as Linkerd's) are made with openssl in a temp dir.
Installs wrk, nginx-light, haproxy, iperf3 with apt-get when missing; builds bench/tls-relay (needs
libssl-dev and pkg-config).

Options:
  --record     append the result table to bench/RESULTS.md (default: only print it)
  -h, --help   show this help
USAGE
}
bench_parse_args "$@"
bench_need_tools wrk:wrk nginx:nginx-light haproxy:haproxy iperf3:iperf3 openssl:openssl pkg-config:pkg-config python3:python3
# libssl-dev has no command to look for: its pkg-config entry says whether it is installed.
pkg-config --exists openssl 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libssl-dev >/dev/null; }
[ -f build/Release/meshlet.node ] || npx --no-install node-gyp rebuild -j 2
if [ ! -f bench/tls-relay/build/Release/tls_relay.node ] || [ bench/tls-relay/relay.cc -nt bench/tls-relay/build/Release/tls_relay.node ]; then
  progress "building bench/tls-relay (OpenSSL $(pkg-config --modversion openssl))"
  npx --no-install node-gyp rebuild -j 2 --directory bench/tls-relay >/dev/null
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
BUN=$ROOT/node_modules/.bin/bun

bench_workdir

# --- certificates: trust anchor → issuer → leaf, ECDSA P-256, DNS SAN = the workload identity.
SERVER_ID=server.default.serviceaccount.identity.linkerd.cluster.local
CLIENT_ID=client.default.serviceaccount.identity.linkerd.cluster.local
(
  cd "$WORK"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 2 -subj "/CN=root.linkerd.cluster.local" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req "${ec[@]}" -keyout issuer.key -out issuer.csr -subj "/CN=identity.linkerd.cluster.local" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >issuer.ext
  openssl x509 -req -in issuer.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out issuer.crt -days 2 -extfile issuer.ext 2>/dev/null
  for who in server client; do
    id=$([ $who = server ] && echo $SERVER_ID || echo $CLIENT_ID)
    mkdir -p $who
    openssl req "${ec[@]}" -keyout $who/tls.key -out $who.csr -subj "/CN=$id" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' "$id" >$who.ext
    openssl x509 -req -in $who.csr -CA issuer.crt -CAkey issuer.key -CAcreateserial -out $who/leaf.crt -days 2 -extfile $who.ext 2>/dev/null
    cat $who/leaf.crt issuer.crt >$who/tls.crt
    cp ca.crt $who/ca.crt
    cat $who/tls.crt $who/tls.key >$who/haproxy.pem
  done
)
progress "certificates in $WORK (trust anchor → issuer → leaf, P-256)"

# --- ports: origin, iperf3, then four per engine (A http, A iperf, B http, B iperf), checked free.
read -ra ENGINE_LIST <<<"$ENGINES"
for e in "${ENGINE_LIST[@]}"; do
  case $e in bun | bun-adopted | bun-spliced | native-bun | native | haproxy) ;; *) echo "bench/tls-engines.sh: unknown engine '$e' in ENGINES" >&2; exit 64 ;; esac
done
bench_free_ports $((2 + 4 * ${#ENGINE_LIST[@]}))
ORIGIN=$BASE IPERF=$((BASE + 1))
declare -A A_HTTP A_IPERF B_HTTP B_IPERF PID_A PID_B
i=0
for e in "${ENGINE_LIST[@]}"; do
  A_HTTP[$e]=$((BASE + 2 + 4 * i)) A_IPERF[$e]=$((BASE + 3 + 4 * i)) B_HTTP[$e]=$((BASE + 4 + 4 * i)) B_IPERF[$e]=$((BASE + 5 + 4 * i))
  i=$((i + 1))
done

nginx_conf origin "server { listen 127.0.0.1:$ORIGIN; location / { default_type text/plain; return 200 \"hello from nginx\\n\"; } }"
start_nginx origin
start iperf3-server iperf3 -s -p "$IPERF"

haproxy_conf() { # file, hop (a|b), engine
  local e=$3
  {
    cat <<CONF
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
CONF
    if [ "$2" = a ]; then
      for r in "http ${A_HTTP[$e]} ${B_HTTP[$e]}" "iperf ${A_IPERF[$e]} ${B_IPERF[$e]}"; do
        set -- $r
        printf 'listen %s\n  bind 127.0.0.1:%s\n  server b 127.0.0.1:%s ssl crt %s ca-file %s verify required verifyhost %s sni str(%s) ssl-min-ver TLSv1.3 no-ssl-reuse\n' \
          "$1" "$2" "$3" "$WORK/client/haproxy.pem" "$WORK/client/ca.crt" "$SERVER_ID" "$SERVER_ID"
      done
    else
      for r in "http ${B_HTTP[$e]} $ORIGIN" "iperf ${B_IPERF[$e]} $IPERF"; do
        set -- $r
        printf 'listen %s\n  bind 127.0.0.1:%s ssl crt %s ca-file %s verify required ssl-min-ver TLSv1.3\n  server o 127.0.0.1:%s\n' \
          "$1" "$2" "$WORK/server/haproxy.pem" "$WORK/server/ca.crt" "$3"
      done
    fi
  } >"$1"
}

for e in "${ENGINE_LIST[@]}"; do
  if [ "$e" = haproxy ]; then
    haproxy_conf "$WORK/haproxy-b.cfg" b "$e"
    haproxy_conf "$WORK/haproxy-a.cfg" a "$e"
    start haproxy-b haproxy -f "$WORK/haproxy-b.cfg" -db
    PID_B[$e]=${PIDS[-1]}
    start haproxy-a haproxy -f "$WORK/haproxy-a.cfg" -db
    PID_A[$e]=${PIDS[-1]}
    continue
  fi
  case $e in
    bun | bun-*) a_engine=bun ;;
    *) a_engine=$e ;;
  esac
  start "$e-b" "$BUN" bench/tls-hop.ts "$e" server "$WORK/server" "$SERVER_ID" "${B_HTTP[$e]}=$ORIGIN" "${B_IPERF[$e]}=$IPERF"
  PID_B[$e]=${PIDS[-1]}
  start "$e-a" "$BUN" bench/tls-hop.ts "$a_engine" client "$WORK/client" "$SERVER_ID" "${A_HTTP[$e]}=${B_HTTP[$e]}" "${A_IPERF[$e]}=${B_IPERF[$e]}"
  PID_A[$e]=${PIDS[-1]}
done

wait_http() { # port: an HTTP answer through the whole chain
  for _ in $(seq 1 200); do
    [ "$(curl -s -m 2 "http://127.0.0.1:$1/" 2>/dev/null)" = "hello from nginx" ] && return 0
    sleep 0.05
  done
  echo "bench/tls-engines.sh: no answer through port $1; logs in $WORK:" >&2
  tail -n 5 "$WORK"/*.log >&2
  exit 1
}
for e in "${ENGINE_LIST[@]}"; do wait_http "${A_HTTP[$e]}"; done
progress "every chain answers: ${ENGINE_LIST[*]}"

per_unit() { # ticks, units, scale (1e6: µs) → ticks as seconds × scale ÷ units
  awk -v t="$1" -v hz="$CLK_TCK" -v n="$2" -v s="$3" 'BEGIN { if (n > 0) printf "%.1f", t * s / hz / n; else print "-" }'
}

declare -A RATE CPU_A CPU_B ERRS
measure() { # key engine kind(keepalive|close|iperf)
  local key=$1 e=$2 kind=$3 out a0 b0 a1 b1 units
  a0=$(cpu_ticks "${PID_A[$e]}") b0=$(cpu_ticks "${PID_B[$e]}")
  case $kind in
    keepalive) out=$(wrk -t1 -c50 -d"${DURATION_S}s" "http://127.0.0.1:${A_HTTP[$e]}/" 2>&1) ;;
    close) out=$(wrk -t1 -c50 -d"${DURATION_S}s" -H "Connection: close" "http://127.0.0.1:${A_HTTP[$e]}/" 2>&1) ;;
    iperf) out=$(iperf3 -c 127.0.0.1 -p "${A_IPERF[$e]}" -t "$IPERF_S" -J 2>&1 || true) ;;
  esac
  a1=$(cpu_ticks "${PID_A[$e]}") b1=$(cpu_ticks "${PID_B[$e]}")
  if [ "$kind" = iperf ]; then
    # iperf3 -J: end.sum_received.{bytes,bits_per_second}; "Gbit/s GB" or nothing when it failed.
    read -r RATE[$key] units < <(python3 -c 'import json, sys
try:
    r = json.load(sys.stdin)["end"]["sum_received"]
    print("%.2f %.4f" % (r["bits_per_second"] / 1e9, r["bytes"] / 1e9))
except Exception:
    print("- 0")' <<<"$out")
    [ "${RATE[$key]}" != "-" ] || ERRS[$key]="iperf3: $(grep -o '"error":.*' <<<"$out" | head -n 1); "
    CPU_A[$key]=$(per_unit $((a1 - a0)) "$units" 1)
    CPU_B[$key]=$(per_unit $((b1 - b0)) "$units" 1)
  else
    units=$(awk '/requests in/ { print $1 }' <<<"$out")
    RATE[$key]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    ERRS[$key]=$(awk '/Non-2xx|Socket errors/ { $1 = $1; printf "%s; ", $0 }' <<<"$out")
    CPU_A[$key]=$(per_unit $((a1 - a0)) "${units:-0}" 1e6)
    CPU_B[$key]=$(per_unit $((b1 - b0)) "${units:-0}" 1e6)
  fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for e in "${ENGINE_LIST[@]}"; do
  progress "warm-up: $e (2 s keep-alive, 1 s close)"
  wrk -t1 -c50 -d2s "http://127.0.0.1:${A_HTTP[$e]}/" >/dev/null 2>&1
  wrk -t1 -c50 -d1s -H "Connection: close" "http://127.0.0.1:${A_HTTP[$e]}/" >/dev/null 2>&1
done
KINDS=(keepalive close iperf)
RUNS=$((ROUNDS * ${#ENGINE_LIST[@]} * ${#KINDS[@]}))
n=0
for r in $(seq 1 "$ROUNDS"); do
  for kind in "${KINDS[@]}"; do
    for i in "${!ENGINE_LIST[@]}"; do
      e=${ENGINE_LIST[$(((i + r - 1) % ${#ENGINE_LIST[@]}))]}
      progress "run $((++n))/$RUNS (round $r/$ROUNDS): $e $kind"
      measure "$e/$kind/$r" "$e" "$kind"
      # Let TIME_WAIT sockets of the close runs and the kernel settle a moment between runs.
      sleep 1
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { printf '%s\n' "$@" | { grep -v '^-$' || true; } | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | { grep -v '^-$' || true; } | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s–%s", lo, hi; else print "-" }'; }
declare -A RANGE
for e in "${ENGINE_LIST[@]}"; do
  for kind in "${KINDS[@]}"; do
    for metric in RATE CPU_A CPU_B; do
      declare -n m=$metric
      vals=()
      for r in $(seq 1 "$ROUNDS"); do vals+=("${m[$e/$kind/$r]}"); done
      m[$e/$kind]=$(median "${vals[@]}")
      [ "$metric" = RATE ] && RANGE[$e/$kind]=$(range "${vals[@]}")
      unset -n m
    done
    errs=""
    for r in $(seq 1 "$ROUNDS"); do errs+="${ERRS[$e/$kind/$r]:-}"; done
    ERRS[$e/$kind]=$errs
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-") printf "%.1f", a + b; else print "-" }'; }
ref=haproxy
[[ " ${ENGINE_LIST[*]} " == *" haproxy "* ]] || ref=${ENGINE_LIST[0]}
{
  echo
  echo "## TLS engines: where mTLS runs — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r), shared (load average $LOAD_BEFORE before, $LOAD_AFTER after); Bun $("$BUN" --version), $(haproxy -v | head -1 | awk '{ print $1, $3 }'), $(openssl version | awk '{ print $1, $2 }'), no kTLS."
  echo "Command: \`DURATION_S=$DURATION_S IPERF_S=$IPERF_S ROUNDS=$ROUNDS bash bench/tls-engines.sh --record\` — wrk/iperf3 → hop A (plaintext in, mTLS out) → hop B (mTLS in, plaintext out) → nginx (1 worker) / iperf3; TLS 1.3, ECDSA P-256 chain (anchor → issuer → leaf), client certificate required, exact server identity; medians of $ROUNDS rotating rounds (req/s range in brackets); CPU = utime+stime of each hop's process over the run. Engines: see \`bash bench/tls-engines.sh --help\`."
  echo
  echo "| engine (hop A / hop B) | keep-alive req/s (-c50) | ÷ $ref | hop A µs/req | hop B µs/req | A+B µs/req ÷ $ref | new mTLS conn/s (-c50) | ÷ $ref | hop A µs/conn | hop B µs/conn | A+B ÷ $ref | iperf3 Gbit/s | ÷ $ref | hop A CPU s/GB | hop B CPU s/GB | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for e in "${ENGINE_LIST[@]}"; do
    ka=$e/keepalive cl=$e/close ip=$e/iperf
    echo "| $e | ${RATE[$ka]} (${RANGE[$ka]}) | $(ratio "${RATE[$ka]}" "${RATE[$ref/keepalive]}") | ${CPU_A[$ka]} | ${CPU_B[$ka]} | $(ratio "$(sum "${CPU_A[$ka]}" "${CPU_B[$ka]}")" "$(sum "${CPU_A[$ref/keepalive]}" "${CPU_B[$ref/keepalive]}")") | ${RATE[$cl]} (${RANGE[$cl]}) | $(ratio "${RATE[$cl]}" "${RATE[$ref/close]}") | ${CPU_A[$cl]} | ${CPU_B[$cl]} | $(ratio "$(sum "${CPU_A[$cl]}" "${CPU_B[$cl]}")" "$(sum "${CPU_A[$ref/close]}" "${CPU_B[$ref/close]}")") | ${RATE[$ip]} (${RANGE[$ip]}) | $(ratio "${RATE[$ip]}" "${RATE[$ref/iperf]}") | ${CPU_A[$ip]} | ${CPU_B[$ip]} | ${ERRS[$ka]}${ERRS[$cl]}${ERRS[$ip]} |"
  done
  echo
} | tee "$WORK/result.md"

bench_record_if_asked "$WORK/result.md"
exit 0
