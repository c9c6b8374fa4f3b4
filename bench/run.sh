#!/usr/bin/env bash
# Throughput of wecomd against a hello-world axum server (crates/wecomd/examples/hello.rs) that
# answers the same URLs with fixed bodies. Both run in release mode on 127.0.0.1 and are loaded
# with identical wrk settings, alternating run by run so that machine noise hits both.
#
# Scenarios: gettoken (corp secret → token) and getcallbackip with an access_token.
# The project's goal: authenticated getcallbackip at ≥ 50% of hello-world req/s.
#
# Settings (environment):
#   BENCH_DURATION     wrk -d per run              [10s]
#   BENCH_CONNECTIONS  wrk -c                      [50]
#   BENCH_THREADS      wrk -t                      [2]
#   BENCH_RUNS         measured runs per server    [3]
#   BENCH_WARMUP       unrecorded warm-up per server and scenario, 0 to skip [2s]
#   BENCH_GOAL         required getcallbackip ratio wecomd/hello, percent [50]
#
# Results are printed and written to bench/out/results-<timestamp>.txt.
# Exit status: 0 when every run was clean (no errors, no non-2xx); 1 on any failure. Missing the
# goal is reported, not a failure.
set -euo pipefail
export LC_ALL=C

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-50}
THREADS=${BENCH_THREADS:-2}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2s}
GOAL=${BENCH_GOAL:-50}
CORPID=ww5e1f0d3c2b4a6978

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=$ROOT/bench/out
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$OUT_DIR/results-$STAMP.txt
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wecomd-bench.XXXXXX")
PIDS=()

die() {
    echo "bench: $*" >&2
    exit 1
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- prerequisites -----------------------------------------------------------------------------

command -v curl >/dev/null || die "curl is needed"
if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk" >&2
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null || die "cannot install wrk"
fi

echo "bench: building (release)" >&2
(cd "$ROOT" && cargo build --release --quiet -p wecomd --bin wecomd --example hello) || die "build failed"
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
WECOMD_BIN=$TARGET_DIR/release/wecomd
HELLO_BIN=$TARGET_DIR/release/examples/hello
[ -x "$WECOMD_BIN" ] && [ -x "$HELLO_BIN" ] || die "binaries missing under $TARGET_DIR/release"

# json_get FILTER: read JSON on stdin, print one value (jq, else python3).
json_get() {
    if command -v jq >/dev/null; then
        jq -er "$1"
    else
        python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].lstrip(".").replace("[",".").replace("]","").split("."):
    v=v[int(k)] if k.isdigit() else v[k]
print(v)' "$1"
    fi
}

# start NAME OUTFILE CMD...: run a server in the background and wait for its first stdout line;
# sets URL to the base URL it announces (http://127.0.0.1:PORT).
start() {
    local name=$1 out=$2
    shift 2
    "$@" >"$out" 2>"$out.err" &
    local pid=$! i
    PIDS+=("$pid")
    for i in $(seq 1 200); do
        if [ -s "$out" ] && head -1 "$out" | grep -q 'listening on http://'; then
            URL=$(head -1 "$out" | grep -o 'http://127\.0\.0\.1:[0-9]*')
            return
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$out" "$out.err" >&2; die "$name exited before listening"; }
        sleep 0.05
    done
    die "$name did not announce its address within 10 s"
}

# --- servers -------------------------------------------------------------------------------------

start wecomd "$WORK/wecomd.out" "$WECOMD_BIN" --listen 127.0.0.1:0 --data-dir "$WORK/data" --no-rate-limits
WECOMD_URL=$URL
start hello "$WORK/hello.out" "$HELLO_BIN" 127.0.0.1:0
HELLO_URL=$URL
echo "bench: wecomd at $WECOMD_URL, hello at $HELLO_URL" >&2

SECRET=$(curl -fsS "$WECOMD_URL/control/corps/$CORPID" | json_get '.apps[0].credential.secret') || die "cannot read the demo app's secret"
GETTOKEN_PATH="/cgi-bin/gettoken?corpid=$CORPID&corpsecret=$SECRET"
TOKEN_BODY=$(curl -fsS "$WECOMD_URL$GETTOKEN_PATH") || die "gettoken failed"
TOKEN=$(printf '%s' "$TOKEN_BODY" | json_get '.access_token') || die "gettoken answered $TOKEN_BODY"
GETCALLBACKIP_PATH="/cgi-bin/getcallbackip?access_token=$TOKEN"

SCENARIOS=(gettoken getcallbackip)
declare -A PATHS=([gettoken]=$GETTOKEN_PATH [getcallbackip]=$GETCALLBACKIP_PATH)
declare -A URLS=([wecomd]=$WECOMD_URL [hello]=$HELLO_URL)

# Every sample answer must be a success before it is measured.
for s in "${SCENARIOS[@]}"; do
    for server in wecomd hello; do
        body=$(curl -fsS "${URLS[$server]}${PATHS[$s]}") || die "$server $s: HTTP failure"
        code=$(printf '%s' "$body" | json_get '.errcode') || die "$server $s answered $body"
        [ "$code" = 0 ] || die "$server $s answered $body"
    done
done

# --- measuring -----------------------------------------------------------------------------------

# to_ms VALUE: wrk's latency (e.g. 812.00us, 1.23ms, 1.02s, 2.00m) in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
        if (f < 0) exit 1
        printf "%.3f", n * f
    }'
}

# wrk_run URL LOG DURATION: load once; sets RUN_RPS and RUN_P99 (ms). Fails on socket errors,
# non-2xx answers, or (wecomd) errors it logged meanwhile: a "system busy" answer is HTTP 200.
wrk_run() {
    local url=$1 log=$2 duration=$3
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency "$url" >"$log" 2>&1 || { cat "$log" >&2; die "wrk failed against $url"; }
    local rps p99 non2xx errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$log")
    p99=$(awk '$1 == "99%" {print $2}' "$log")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$log")
    errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$log")
    [ -n "$rps" ] && [ -n "$p99" ] || { cat "$log" >&2; die "cannot parse wrk output for $url"; }
    if [ "${non2xx:-0}" != 0 ] || [ "${errors:-0}" != 0 ]; then
        cat "$log" >&2
        die "$url: ${non2xx:-0} non-2xx responses, ${errors:-0} socket errors"
    fi
    local logged
    logged=$(grep -cE '\b(WARN|ERROR)\b' "$WORK/wecomd.out.err" || true)
    if [ "$logged" != 0 ]; then
        cat "$WORK/wecomd.out.err" >&2
        die "wecomd logged warnings or errors while loaded by $url"
    fi
    RUN_RPS=$rps
    RUN_P99=$(to_ms "$p99")
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

mkdir -p "$OUT_DIR"
{
    echo "wecomd vs hello-world axum — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host: $(uname -srm), $(nproc) CPUs; commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (dirty)')"
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency; $RUNS runs per server, alternating hello/wecomd; warm-up $WARMUP"
    echo "wecomd: --no-rate-limits, sqlite in a temporary data dir"
} | tee "$RESULTS"

declare -A RATIO
for s in "${SCENARIOS[@]}"; do
    echo "bench: $s …" >&2
    if [ "$WARMUP" != 0 ]; then
        for server in hello wecomd; do
            wrk_run "${URLS[$server]}${PATHS[$s]}" "$WORK/warmup-$s-$server.log" "$WARMUP"
        done
    fi
    declare -A RPS=() P99=()
    for run in $(seq 1 "$RUNS"); do
        for server in hello wecomd; do
            wrk_run "${URLS[$server]}${PATHS[$s]}" "$WORK/$s-$server-$run.log" "$DURATION"
            RPS[$server,$run]=$RUN_RPS
            P99[$server,$run]=$RUN_P99
            echo "bench:   run $run $server: $RUN_RPS req/s, p99 $RUN_P99 ms" >&2
        done
    done
    h_rps=() w_rps=() h_p99=() w_p99=()
    for run in $(seq 1 "$RUNS"); do
        h_rps+=("${RPS[hello,$run]}") w_rps+=("${RPS[wecomd,$run]}")
        h_p99+=("${P99[hello,$run]}") w_p99+=("${P99[wecomd,$run]}")
    done
    hm=$(median "${h_rps[@]}") wm=$(median "${w_rps[@]}")
    RATIO[$s]=$(awk -v w="$wm" -v h="$hm" 'BEGIN {printf "%.1f", 100 * w / h}')
    {
        echo
        echo "== $s ($( [ "$s" = gettoken ] && echo 'corpid + corpsecret' || echo 'access_token' )) =="
        printf '%-8s %14s %12s %14s %12s\n' run "hello req/s" "hello p99" "wecomd req/s" "wecomd p99"
        for run in $(seq 1 "$RUNS"); do
            printf '%-8s %14.0f %9.2f ms %14.0f %9.2f ms\n' "$run" "${RPS[hello,$run]}" "${P99[hello,$run]}" "${RPS[wecomd,$run]}" "${P99[wecomd,$run]}"
        done
        printf '%-8s %14.0f %9.2f ms %14.0f %9.2f ms\n' median "$hm" "$(median "${h_p99[@]}")" "$wm" "$(median "${w_p99[@]}")"
        echo "ratio wecomd/hello (median req/s): ${RATIO[$s]}%"
    } | tee -a "$RESULTS"
    unset RPS P99
done

{
    echo
    verdict=$(awk -v r="${RATIO[getcallbackip]}" -v g="$GOAL" 'BEGIN {print (r + 0 >= g + 0) ? "met" : "NOT met"}')
    echo "goal: authenticated getcallbackip ≥ $GOAL% of hello-world — ${RATIO[getcallbackip]}%, $verdict"
} | tee -a "$RESULTS"
echo "bench: results written to ${RESULTS#"$ROOT"/}" >&2
