# Shared helpers for tools/peers/* (sourced, not run). Bash 4+.
# shellcheck disable=SC2034 # constants and paths used by the scripts that source this file
#
# Conventions: every run writes one "row file" of key=value lines (see write_row); tools/peers/compare renders
# the rows as a markdown table. Servers are started on 127.0.0.1 only, on a free port at or above a
# non-default base, with data in a temp dir; each script stops what it started (trap) and removes its temp dir.

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$PEERS_DIR/../.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

# The population, identical for every system (the shape of `bidline bench --scenario steady`):
# deposit 100,000,000.00 per investor, listings of 1,000,000.00 with minimum bid = step = 1.00,
# bids of 1-5 whole yuan. Money in cents.
DEPOSIT_CENTS=10000000000
LISTING_AMOUNT_CENTS=100000000
MIN_BID_CENTS=100

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# 1-minute load average.
loadavg1() { cut -d' ' -f1 /proc/loadavg; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# First port at or above $1 with nothing listening.
free_port() {
    local port=$1
    while port_open "$port"; do port=$((port + 1)); done
    echo "$port"
}

# wait_port PORT SECONDS PID: until the port accepts connections; fails if PID dies or time runs out.
wait_port() {
    local port=$1 deadline=$((SECONDS + $2)) pid=${3:-}
    until port_open "$port"; do
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# stop_pid PID [SECONDS]: SIGTERM the process this script started, wait, then SIGKILL if it lingers.
stop_pid() {
    local pid=$1 grace=${2:-10} i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

# bounded SECONDS CMD...: runs CMD under `timeout` as a background child and waits for it, so that the caller's
# INT/TERM trap runs at once instead of after CMD (its cleanup stops $LOADGEN_PID). Returns CMD's status.
LOADGEN_PID=""
bounded() {
    local limit=$1 rc=0
    shift
    timeout "$limit" "$@" &
    LOADGEN_PID=$!
    wait "$LOADGEN_PID" || rc=$?
    LOADGEN_PID=""
    return "$rc"
}

# Installs the Debian packages a fresh machine lacks (redis-server, redis-tools, postgresql).
ensure_packages() {
    local need=()
    command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
    command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
    [ -x "$PG_BIN/postgres" ] && command -v pgbench >/dev/null 2>&1 || need+=(postgresql)
    [ ${#need[@]} -eq 0 ] && return 0
    log "installing ${need[*]} (apt-get)"
    local sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
}

# Percentiles (nearest rank) of a file of numbers, one a line: prints "p50 p99 p999 mean stddev count".
percentiles_of() {
    sort -n "$1" | awk '
        { v[NR] = $1; s += $1; ss += $1 * $1 }
        function rank(p,   r) { r = int(p * NR); if (r < p * NR) r++; if (r < 1) r = 1; return v[r] }
        END {
            if (NR == 0) { print "- - - - - 0"; exit }
            m = s / NR; var = ss / NR - m * m; if (var < 0) var = 0
            printf "%d %d %d %.0f %.0f %d\n", rank(0.50), rank(0.99), rank(0.999), m, sqrt(var), NR
        }'
}

# CPU seconds (user + system, all threads) of process $1; with $2 = children, plus its reaped children's.
cpu_seconds() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    # Fields after "(comm) ": state ppid ... utime(12) stime(13) cutime(14) cstime(15).
    awk -v hz="$(getconf CLK_TCK)" -v kids="${2:-}" \
        '{ t = $12 + $13; if (kids != "") t += $14 + $15; printf "%.3f\n", t / hz }' <<< "${stat##*) }"
}

# children_cpu_seconds VAR: sets VAR to the CPU seconds of this shell's waited-for children (bash's `times`,
# second line), e.g. a load generator run by `bounded`. Call it directly, not in $(...): a subshell would
# report its own (empty) children.
children_cpu_seconds() {
    local file
    file=$(mktemp)
    times > "$file"
    printf -v "$1" '%s' "$(awk 'NR == 2 {
        n = split($0, f, " "); t = 0
        for (i = 1; i <= n; i++) { split(f[i], p, "m"); sub(/s$/, "", p[2]); t += p[1] * 60 + p[2] }
        printf "%.3f\n", t }' "$file")"
    rm -f "$file"
}

# micros_per DELTA_SECONDS COUNT: CPU microseconds per request.
micros_per() { awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", s * 1e6 / n; else print "" }'; }
# difference of two decimals
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# write_row FILE key=value...: one run's result. Keys used by compare: system durability class connections
# pipeline throughput p50_us p99_us p999_us p999_bound seconds requests errors load1 books command note
# server_cpu_us client_cpu_us (CPU per request, measured run only).
write_row() {
    local file=$1; shift
    : > "$file"
    local kv
    for kv in "$@"; do printf '%s\n' "$kv" >> "$file"; done
}
