# bench_lib.sh - sourced by the benchmark scripts that start a
# fastport-server and read its memory or counters (idle-rss.sh, abuse.sh,
# soak.sh), and by the shell tests' check_lib.sh (wait_for).

# raise_nofile: the soft descriptor limit up to the hard one; prints it.
raise_nofile() {
    local hard
    hard="$(ulimit -Hn)"
    [[ "${hard}" == unlimited ]] && hard="$(cat /proc/sys/fs/nr_open)"
    ulimit -n "${hard}"
    echo "${hard}"
}

# stop_pid PID: INT (Ctrl-C to a Wine-hosted server), bounded wait, then KILL.
stop_pid() {
    [[ -n "$1" ]] || return 0
    local i
    kill -INT "$1" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# wait_for FILE PATTERN SECONDS: until a line of FILE matches.
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# Resident memory of a process in kB: all of it, and its private part.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
private_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# server_stat NAME FILE: NAME's value in the last stats line of FILE, or empty.
server_stat() { grep '^stats:' "$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
