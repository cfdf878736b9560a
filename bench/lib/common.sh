# Shell helpers the proxy benchmarks share (sourced by bench/http.sh, h2.sh, tls-engines.sh and mtls.sh
# after they cd to the repository root and set BENCH_NAME): progress lines, tool installation, the temp
# work dir with cleanup of every process started, free-port search, starting nginx / HAProxy / any
# command, waiting for a listener, CPU ticks from /proc, the figures' arithmetic (medians, ratios, CPU per
# unit, wrk latencies, iperf3 results), and appending a result to bench/RESULTS.md.

# progress MESSAGE...: a progress line on stderr, prefixed with the benchmark's name.
progress() { echo "[bench/$BENCH_NAME] $*" >&2; }

# bench_need_tools COMMAND:DEBIAN_PACKAGE...: installs the packages of missing commands with apt-get.
bench_need_tools() {
  local need=() tool
  for tool in "$@"; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# bench_workdir: WORK (a fresh temp dir) and PIDS; on exit every started process is stopped and WORK removed.
bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/meshlet-bench-$BENCH_NAME-XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
# bench_cleanup: stops what the bench started and removes $WORK (kept, with its logs, when KEEP_WORK is set).
bench_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}

# port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bench_free_ports COUNT: BASE such that BASE … BASE+COUNT-1 are free, below the ephemeral range (32768+).
bench_free_ports() {
  local count=$1 attempt p free
  for attempt in $(seq 1 20); do
    BASE=$((20000 + RANDOM % 10000))
    free=1
    for p in $(seq "$BASE" $((BASE + count - 1))); do port_free "$p" || { free=0; break; }; done
    [ "$free" = 1 ] && return 0
  done
  echo "bench/$BENCH_NAME.sh: found no $count free consecutive ports in 20 tries" >&2
  exit 1
}

# start LOGNAME COMMAND...: runs COMMAND in the background (output to $WORK/LOGNAME.log); its pid is ${PIDS[-1]}.
start() {
  local log=$WORK/$1.log
  shift
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
}

# bench_parse_args ARGS...: --record sets RECORD=1 (append to bench/RESULTS.md), -h/--help runs the
# script's `usage` and exits; anything else exits 64.
bench_parse_args() {
  RECORD=0
  for arg in "$@"; do
    case $arg in
      --record) RECORD=1 ;;
      -h | --help) usage; exit 0 ;;
      *) echo "bench/$BENCH_NAME.sh: unknown argument '$arg' (see --help)" >&2; exit 64 ;;
    esac
  done
}

# nginx_conf NAME BLOCK: $WORK/NAME/nginx.conf for one worker in the foreground, keep-alive without limit,
# no access log, temp paths under $WORK/NAME, and BLOCK (server/upstream blocks) inside http { }.
nginx_conf() {
  mkdir -p "$WORK/$1"
  cat >"$WORK/$1/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/$1/nginx.pid;
error_log $WORK/$1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path $WORK/$1/body;
  proxy_temp_path $WORK/$1/proxy;
  fastcgi_temp_path $WORK/$1/fcgi;
  uwsgi_temp_path $WORK/$1/uwsgi;
  scgi_temp_path $WORK/$1/scgi;
  $2
}
CONF
}

# start_nginx NAME [LOGNAME]: nginx with $WORK/NAME/nginx.conf, prefix $WORK/NAME (log $WORK/LOGNAME.log, default NAME).
start_nginx() { start "${2:-$1}" nginx -c "$WORK/$1/nginx.conf" -p "$WORK/$1"; }

# start_haproxy: HAProxy in the foreground with $WORK/haproxy.cfg; sets HAPROXY_PID.
start_haproxy() {
  start haproxy haproxy -f "$WORK/haproxy.cfg" -db
  HAPROXY_PID=${PIDS[-1]}
}

# wait_http PORT [CURL_ARGS...]: waits (≤ 10 s) until http://127.0.0.1:PORT/ answers, else exits.
wait_http() {
  local port=$1
  shift
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "$@" "http://127.0.0.1:$port/" && return 0
    sleep 0.05
  done
  echo "bench/$BENCH_NAME.sh: nothing answers${1:+ ($*)} on port $port" >&2
  exit 1
}

# cpu_ticks PID: utime+stime of PID and its children (nginx's workers), in clock ticks (CLK_TCK per second).
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}

# cpu_per_unit TICKS UNITS SCALE: CPU seconds (TICKS ÷ CLK_TCK) × SCALE ÷ UNITS (SCALE 1e6: µs), or "-".
cpu_per_unit() {
  awk -v t="$1" -v hz="$CLK_TCK" -v n="$2" -v s="$3" 'BEGIN { if (n > 0 && t > 0) printf "%.1f", t * s / hz / n; else print "-" }'
}

# to_ms LATENCY: a wrk latency ("384.00us", "1.20ms", "2.00s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# median VALUE...: the median, "-" values left out ("-" when none is left).
median() { printf '%s\n' "$@" | { grep -v '^-$' || true; } | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratio A B: A ÷ B with two decimals, "-" when either is "-" or B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }

# iperf3_result: reads `iperf3 -J` output on stdin, prints "GBIT_PER_S GB" received, or "- 0" when it failed.
iperf3_result() {
  python3 -c 'import json, sys
try:
    r = json.load(sys.stdin)["end"]["sum_received"]
    print("%.2f %.4f" % (r["bits_per_second"] / 1e9, r["bytes"] / 1e9))
except Exception:
    print("- 0")'
}

# bench_record FILE: appends FILE (a result in Markdown) to bench/RESULTS.md.
bench_record() { cat "$1" >>bench/RESULTS.md; }

# bench_record_if_asked FILE: bench_record FILE when the run was started with --record; says which.
bench_record_if_asked() {
  if [ "$RECORD" = 1 ]; then
    bench_record "$1"
    progress "recorded in bench/RESULTS.md"
  else
    progress "not recorded (run with --record to append it to bench/RESULTS.md)"
  fi
}
