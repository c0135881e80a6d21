#!/usr/bin/env bash
# The project's test command (README). Installs what is missing, starts its own PostgreSQL,
# NATS (JetStream), etcd and an SMTP sink (aiosmtpd) on free loopback ports in a temporary
# directory, exports their URLs, runs fmt, clippy and the tests, then stops everything it started.
#
#   scripts/test.sh                    the whole workspace
#   scripts/test.sh -p ferrobot-bus    extra arguments go to the test runner
#
# Environment knobs:
#   FERROBOT_TEST_SKIP_LINT=1   skip `cargo fmt --check` and clippy
#   FERROBOT_TEST_KEEP=1        keep the temporary directory (service logs) after the run
#   FERROBOT_TEST_RUNNER=cargo  use `cargo test` even when cargo-nextest is available
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export RUST_BACKTRACE=0

STARTED_AT=$SECONDS
say() { printf '==> [%4ss] %s\n' "$((SECONDS - STARTED_AT))" "$*"; }
fail() {
    printf 'scripts/test.sh: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Phase 1: packages

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        fail "need root (or sudo) to run: $*"
    fi
}

postgres_bin_dir() {
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        printf '%s\n' "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

install_missing_packages() {
    local missing=()
    [ -n "$(postgres_bin_dir)" ] || missing+=(postgresql)
    command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
    command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
    command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
    command -v git >/dev/null 2>&1 || missing+=(git)
    # etcd-client's build script runs protoc and needs the well-known types.
    command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
    [ -e /usr/include/google/protobuf/descriptor.proto ] || missing+=(libprotobuf-dev)
    # scripts/check-deploy.sh validates deploy/docker-compose.yml offline with it.
    command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
    # The SMTP sink (aiosmtpd) runs in a virtualenv of its own.
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
    # The dashboard's browser tests (tests/browser) drive headless Chromium through chromedriver.
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    if [ ${#missing[@]} -eq 0 ]; then
        say "packages: all present"
        return
    fi
    command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and no apt-get to install them"
    say "packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

choose_test_runner() {
    if [ "${FERROBOT_TEST_RUNNER:-}" = cargo ]; then
        RUNNER=cargo
    elif cargo nextest --version >/dev/null 2>&1; then
        RUNNER=nextest
    else
        say "packages: installing cargo-nextest"
        if cargo install cargo-nextest --locked; then
            RUNNER=nextest
        else
            say "packages: cargo-nextest did not install, falling back to cargo test"
            RUNNER=cargo
        fi
    fi
}

# ---------------------------------------------------------------------------------------------
# Phase 2: services, each on its own free loopback port

TEST_DIR=""
NATS_PID=""
ETCD_PID=""
SMTP_PID=""
PG_DATA=""
PG_BIN=""
USED_PORTS=" "
FREE_PORT=""

# Runs a command as a child this shell waits on, so a TERM reaches the trap at once instead
# of after the command ends. The child gets its own process group (set -m) so that the trap
# can stop it together with what it spawned (cargo's test binaries).
CHILD_PID=""
run() {
    local status=0
    set -m
    "$@" &
    CHILD_PID=$!
    set +m
    wait "$CHILD_PID" || status=$?
    CHILD_PID=""
    return "$status"
}

stop_services() {
    local status=$?
    trap - EXIT
    set +e
    if [ -n "$CHILD_PID" ]; then
        kill -TERM -- "-$CHILD_PID" 2>/dev/null || kill -TERM "$CHILD_PID" 2>/dev/null
        wait "$CHILD_PID" 2>/dev/null
    fi
    if [ -n "$NATS_PID" ] || [ -n "$ETCD_PID" ] || [ -n "$SMTP_PID" ] || [ -n "$PG_DATA" ]; then
        say "services: stopping"
    fi
    for pid in $NATS_PID $ETCD_PID $SMTP_PID; do
        kill "$pid" 2>/dev/null
    done
    for pid in $NATS_PID $ETCD_PID $SMTP_PID; do
        wait "$pid" 2>/dev/null
    done
    if [ -n "$PG_DATA" ] && [ -e "$PG_DATA/postmaster.pid" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 ||
            as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
    fi
    if [ -n "$TEST_DIR" ]; then
        if [ "${FERROBOT_TEST_KEEP:-}" = 1 ]; then
            say "services: logs kept in $TEST_DIR"
        else
            rm -rf "$TEST_DIR"
        fi
    fi
    exit "$status"
}

as_postgres() {
    # PostgreSQL refuses to run as root.
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_is_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sets FREE_PORT to a port nobody listens on and that this script has not handed out yet
# (not a command substitution: the subshell would forget USED_PORTS). Something may still grab
# it before the service binds, so callers retry their start on a new port.
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        case "$USED_PORTS" in *" $port "*) continue ;; esac
        if ! port_is_taken "$port"; then
            USED_PORTS="$USED_PORTS$port "
            FREE_PORT=$port
            return
        fi
    done
    fail "no free loopback port found"
}

show_log_and_fail() {
    local name=$1 log=$2
    printf -- '--- last lines of %s (%s) ---\n' "$name" "$log" >&2
    tail -n 40 "$log" >&2 2>/dev/null || true
    fail "$name did not come up"
}

# Retries `check` up to `tries` times, 0.2 s apart, while the process `pid` (if any) lives.
wait_until() {
    local tries=$1 pid=$2
    shift 2
    for _ in $(seq 1 "$tries"); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.2
    done
    return 1
}

# Through the very URL the tests get, so a wrong URL fails here rather than in every test.
postgres_answers() {
    "$PG_BIN/pg_isready" -q -d "$1" && [ "$("$PG_BIN/psql" -X -tA -d "$1" -c 'select 1')" = 1 ]
}

start_postgres() {
    PG_BIN=$(postgres_bin_dir)
    [ -n "$PG_BIN" ] || fail "PostgreSQL binaries not found"
    local dir="$TEST_DIR/postgres" port attempt
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$dir"
    fi
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 \
        >"$dir/initdb.log" 2>&1 || show_log_and_fail "initdb" "$dir/initdb.log"
    PG_DATA="$dir/data"
    for attempt in 1 2 3 4 5; do
        free_port
        port=$FREE_PORT
        if as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$dir/postgres.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
            start >>"$dir/pg_ctl.log" 2>&1 &&
            wait_until 150 "" postgres_answers "postgresql://postgres@127.0.0.1:$port/postgres"; then
            export FERROBOT_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
            say "services: postgresql on 127.0.0.1:$port"
            return
        fi
        say "services: postgresql failed on port $port (attempt $attempt)"
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
    done
    show_log_and_fail "postgresql" "$dir/postgres.log"
}

# A NATS server greets with an INFO line; ours must have JetStream on.
nats_answers() (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    read -r -t 2 greeting <&3 || exit 1
    [[ "$greeting" == INFO* && "$greeting" == *'"jetstream":true'* ]]
)

start_nats() {
    local dir="$TEST_DIR/nats" port attempt
    mkdir -p "$dir/js"
    for attempt in 1 2 3 4 5; do
        free_port
        port=$FREE_PORT
        nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/js" >>"$dir/nats.log" 2>&1 &
        NATS_PID=$!
        if wait_until 150 "$NATS_PID" nats_answers "$port"; then
            export FERROBOT_TEST_NATS_URL="nats://127.0.0.1:$port"
            say "services: nats-server on 127.0.0.1:$port"
            return
        fi
        say "services: nats-server failed on port $port (attempt $attempt)"
        kill "$NATS_PID" 2>/dev/null || true
        wait "$NATS_PID" 2>/dev/null || true
        NATS_PID=""
    done
    show_log_and_fail "nats-server" "$dir/nats.log"
}

etcd_healthy() {
    ETCDCTL_API=3 etcdctl --endpoints="$1" --dial-timeout=1s --command-timeout=2s endpoint health
}

start_etcd() {
    local dir="$TEST_DIR/etcd" client peer url attempt
    mkdir -p "$dir"
    for attempt in 1 2 3 4 5; do
        free_port
        client=$FREE_PORT
        free_port
        peer=$FREE_PORT
        url="http://127.0.0.1:$client"
        rm -rf "$dir/data"
        etcd --name ferrobot-test --data-dir "$dir/data" \
            --listen-client-urls "$url" --advertise-client-urls "$url" \
            --listen-peer-urls "http://127.0.0.1:$peer" \
            --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
            --initial-cluster "ferrobot-test=http://127.0.0.1:$peer" \
            --heartbeat-interval=10 --election-timeout=100 >>"$dir/etcd.log" 2>&1 &
        ETCD_PID=$!
        if wait_until 150 "$ETCD_PID" etcd_healthy "$url"; then
            export FERROBOT_TEST_ETCD_ENDPOINTS="$url"
            say "services: etcd on 127.0.0.1:$client"
            return
        fi
        say "services: etcd failed on port $client (attempt $attempt)"
        kill "$ETCD_PID" 2>/dev/null || true
        wait "$ETCD_PID" 2>/dev/null || true
        ETCD_PID=""
    done
    show_log_and_fail "etcd" "$dir/etcd.log"
}

# An SMTP server greets with a 220 line.
smtp_answers() (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    read -r -t 2 greeting <&3 || exit 1
    [[ "$greeting" == 220* ]]
)

# aiosmtpd files every mail it accepts in a Maildir, which the mail tests read.
start_smtp() {
    local dir="$TEST_DIR/smtp" port attempt
    mkdir -p "$dir/maildir/tmp" "$dir/maildir/new" "$dir/maildir/cur"
    python3 -m venv "$dir/venv" >"$dir/venv.log" 2>&1 || show_log_and_fail "python3 -m venv" "$dir/venv.log"
    "$dir/venv/bin/pip" install -q aiosmtpd >>"$dir/venv.log" 2>&1 ||
        show_log_and_fail "pip install aiosmtpd" "$dir/venv.log"
    for attempt in 1 2 3 4 5; do
        free_port
        port=$FREE_PORT
        "$dir/venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$port" \
            -c aiosmtpd.handlers.Mailbox "$dir/maildir" >>"$dir/smtp.log" 2>&1 &
        SMTP_PID=$!
        if wait_until 150 "$SMTP_PID" smtp_answers "$port"; then
            export FERROBOT_TEST_SMTP="127.0.0.1:$port" FERROBOT_TEST_MAILDIR="$dir/maildir"
            # The TLS mail tests start their own aiosmtpd (STARTTLS, SMTPS) with this Python.
            export FERROBOT_TEST_SMTP_PYTHON="$dir/venv/bin/python"
            say "services: aiosmtpd on 127.0.0.1:$port"
            return
        fi
        say "services: aiosmtpd failed on port $port (attempt $attempt)"
        kill "$SMTP_PID" 2>/dev/null || true
        wait "$SMTP_PID" 2>/dev/null || true
        SMTP_PID=""
    done
    show_log_and_fail "aiosmtpd" "$dir/smtp.log"
}

# ---------------------------------------------------------------------------------------------
# Phase 3: checks and tests

selects_packages() {
    local argument
    for argument in "$@"; do
        case "$argument" in
        --) return 1 ;;
        -p | -p* | --package | --package=* | --manifest-path | --manifest-path=*) return 0 ;;
        esac
    done
    return 1
}

# Features off by default that the whole-workspace runs turn on: the etcd coordinator needs
# protoc to build, which this script installs (a plain `cargo build` must work without it).
FEATURES=(--features ferrobot-coord/etcd --features ferrobot-master/etcd)

main() {
    command -v cargo >/dev/null 2>&1 || fail "cargo not found (install the Rust toolchain first)"
    install_missing_packages
    choose_test_runner

    trap stop_services EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferrobot-test.XXXXXX")
    # The postgres user must reach its data directory inside.
    chmod 755 "$TEST_DIR"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$TEST_DIR"; then
        rm -rf "$TEST_DIR"
        TEST_DIR=$(mktemp -d /tmp/ferrobot-test.XXXXXX)
        chmod 755 "$TEST_DIR"
    fi
    say "services: starting in $TEST_DIR"
    start_postgres
    start_nats
    start_etcd
    start_smtp

    local lint_status=0
    if [ "${FERROBOT_TEST_SKIP_LINT:-}" = 1 ]; then
        say "lint: skipped (FERROBOT_TEST_SKIP_LINT=1)"
    else
        say "lint: cargo fmt --all --check"
        run cargo fmt --all --check || lint_status=1
        say "lint: cargo clippy --workspace --all-targets ${FEATURES[*]} -- -D warnings"
        run cargo clippy --workspace --all-targets "${FEATURES[@]}" -- -D warnings || lint_status=1
    fi

    local scope=(--workspace "${FEATURES[@]}") test_status=0
    if selects_packages "$@"; then
        scope=()
    fi
    if [ "$RUNNER" = nextest ]; then
        local command=(cargo nextest run "${scope[@]}" --profile ci "$@")
        say "tests: ${command[*]}"
        run "${command[@]}" || test_status=$?
    else
        local command=(cargo test "${scope[@]}" "$@")
        say "tests: ${command[*]}"
        run "${command[@]}" || test_status=$?
    fi

    # The deployment files (deploy/): compose validity, master.cfg, entrypoint. After the tests,
    # so it reuses the ferrobot binary they built instead of building one more.
    local deploy_status=0
    say "deploy: scripts/check-deploy.sh"
    if [ -x target/debug/ferrobot ] && [ -z "${FERROBOT_BIN:-}" ]; then
        export FERROBOT_BIN=$PWD/target/debug/ferrobot
    fi
    run bash scripts/check-deploy.sh || {
        deploy_status=1
        say "deploy: FAILED (scripts/check-deploy.sh, message above)"
    }

    if [ "$test_status" -ne 0 ]; then
        say "done: tests failed (status $test_status)"
        exit "$test_status"
    fi
    if [ "$deploy_status" -ne 0 ]; then
        say "done: tests passed, but the deployment checks failed (bash scripts/check-deploy.sh)"
        exit 1
    fi
    if [ "$lint_status" -ne 0 ]; then
        say "done: tests passed, but fmt or clippy failed"
        exit 1
    fi
    say "done: all passed"
}

main "$@"
