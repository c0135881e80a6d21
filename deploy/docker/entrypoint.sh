#!/usr/bin/env bash
# Entrypoint of the Ferrobot image (deploy/docker/Dockerfile). One image, three uses:
#
#   master [ARGS...]      prepare the master directory, then `ferrobot start DIR ARGS...`
#                         (ARGS: --roles www,scheduler|builder, --name, --www-port, --worker-port;
#                         or the env FERROBOT_ROLES, FERROBOT_MASTER_NAME, FERROBOT_WWW_PORT,
#                         FERROBOT_WORKER_PORT, which `ferrobot start` reads itself)
#   worker                create (or refresh) the worker directory from env, then
#                         `ferrobot-worker start DIR`
#   upgrade-master        prepare the master directory, then `ferrobot upgrade-master DIR`
#   checkconfig [ARGS...] prepare the master directory, then `ferrobot checkconfig DIR ARGS...`
#   health                the container healthcheck (what it checks depends on the roles)
#   anything else         run as it is (e.g. `bash`)
#
# Master environment:
#   FERROBOT_MASTER_DIR   the master directory (default /var/lib/ferrobot/master)
#   FERROBOT_MASTER_CFG   the shared master.cfg (default /etc/ferrobot/master.cfg, mounted);
#                         DIR/master.cfg becomes a symlink to it on first start, so editing the
#                         mounted file and running `ferrobot reconfig DIR` reloads it
# Worker environment:
#   FERROBOT_WORKER_DIR              the worker directory (default /var/lib/ferrobot/worker)
#   FERROBOT_WORKER_NAME             the worker's name in c['workers'] (required on first start)
#   FERROBOT_WORKER_PASSWORD         its password, or FERROBOT_WORKER_PASSWORD_FILE (a secret file)
#   FERROBOT_MASTER_ADDRESS          HOST:PORT of the builder masters (default builders:9989);
#                                    the worker resolves HOST to all its addresses and picks one
#   FERROBOT_WORKER_MAXDELAY         longest wait between reconnection attempts, s (default 10)
#   FERROBOT_WORKER_KEEPALIVE        seconds between keepalives (default 60)
#   FERROBOT_WORKER_ADMIN, FERROBOT_WORKER_HOST_INFO   info/admin and info/host, if given
set -euo pipefail

MASTER_DIR=${FERROBOT_MASTER_DIR:-/var/lib/ferrobot/master}
MASTER_CFG=${FERROBOT_MASTER_CFG:-/etc/ferrobot/master.cfg}
WORKER_DIR=${FERROBOT_WORKER_DIR:-/var/lib/ferrobot/worker}
# What `health` checks, written when the container starts (a healthcheck is a separate
# process that sees the container's environment but not the command's arguments).
HEALTH_FILE=${FERROBOT_HEALTH_FILE:-/tmp/ferrobot-health.env}

say() { printf 'ferrobot-entrypoint: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

prepare_master() {
    mkdir -p "$MASTER_DIR"
    local cfg="$MASTER_DIR/master.cfg"
    if [ ! -e "$cfg" ] && [ ! -L "$cfg" ]; then
        [ -f "$MASTER_CFG" ] ||
            die "no master.cfg: mount one at $MASTER_CFG (FERROBOT_MASTER_CFG) or put it in $cfg"
        ln -s "$MASTER_CFG" "$cfg"
        say "master directory $MASTER_DIR created (master.cfg -> $MASTER_CFG)"
    fi
    [ -e "$cfg" ] || die "$cfg is a dangling symlink (is $MASTER_CFG mounted?)"
}

# The effective roles and ports: the command line wins over the environment, as in ferrobot.
record_master_health() {
    local roles=${FERROBOT_ROLES:-www,scheduler,builder}
    local www_port=${FERROBOT_WWW_PORT:-8010} worker_port=${FERROBOT_WORKER_PORT:-9989}
    while [ $# -gt 0 ]; do
        case "$1" in
        --roles) roles=${2:-} && shift ;;
        --roles=*) roles=${1#--roles=} ;;
        --www-port) www_port=${2:-} && shift ;;
        --www-port=*) www_port=${1#--www-port=} ;;
        --worker-port) worker_port=${2:-} && shift ;;
        --worker-port=*) worker_port=${1#--worker-port=} ;;
        esac
        shift
    done
    printf 'MODE=master\nROLES=%q\nWWW_PORT=%q\nWORKER_PORT=%q\n' \
        "$roles" "$www_port" "$worker_port" >"$HEALTH_FILE"
}

run_master() {
    prepare_master
    # One master per container: a pid file left by a previous run of this container is stale.
    rm -f "$MASTER_DIR"/ferrobot*.pid
    record_master_health "$@"
    exec ferrobot start "$MASTER_DIR" "$@"
}

run_worker() {
    local password=${FERROBOT_WORKER_PASSWORD:-}
    if [ -n "${FERROBOT_WORKER_PASSWORD_FILE:-}" ]; then
        password=$(cat "$FERROBOT_WORKER_PASSWORD_FILE") ||
            die "cannot read FERROBOT_WORKER_PASSWORD_FILE=$FERROBOT_WORKER_PASSWORD_FILE"
    fi
    if [ -n "${FERROBOT_WORKER_NAME:-}" ]; then
        [ -n "$password" ] ||
            die "FERROBOT_WORKER_NAME is set but neither FERROBOT_WORKER_PASSWORD nor FERROBOT_WORKER_PASSWORD_FILE"
        # The environment is the truth: refresh worker.json on every start (--force keeps info/).
        ferrobot-worker create-worker --force \
            --maxdelay "${FERROBOT_WORKER_MAXDELAY:-10}" \
            --keepalive "${FERROBOT_WORKER_KEEPALIVE:-60}" \
            "$WORKER_DIR" "${FERROBOT_MASTER_ADDRESS:-builders:9989}" \
            "$FERROBOT_WORKER_NAME" "$password" >/dev/null
        [ -z "${FERROBOT_WORKER_ADMIN:-}" ] || printf '%s\n' "$FERROBOT_WORKER_ADMIN" >"$WORKER_DIR/info/admin"
        [ -z "${FERROBOT_WORKER_HOST_INFO:-}" ] || printf '%s\n' "$FERROBOT_WORKER_HOST_INFO" >"$WORKER_DIR/info/host"
        say "worker $FERROBOT_WORKER_NAME -> ${FERROBOT_MASTER_ADDRESS:-builders:9989} in $WORKER_DIR"
    elif [ ! -f "$WORKER_DIR/worker.json" ]; then
        die "no worker in $WORKER_DIR: set FERROBOT_WORKER_NAME and FERROBOT_WORKER_PASSWORD"
    fi
    rm -f "$WORKER_DIR/worker.pid"
    printf 'MODE=worker\n' >"$HEALTH_FILE"
    exec ferrobot-worker start "$WORKER_DIR" "$@"
}

health() {
    [ -f "$HEALTH_FILE" ] || die "not started yet"
    local MODE="" ROLES="" WWW_PORT="" WORKER_PORT=""
    # shellcheck disable=SC1090
    . "$HEALTH_FILE"
    case "$MODE" in
    worker)
        local pid
        pid=$(cat "$WORKER_DIR/worker.pid" 2>/dev/null) || die "no worker.pid"
        kill -0 "$pid" 2>/dev/null || die "worker (pid $pid) is not running"
        ;;
    master)
        case ",$ROLES," in
        *,www,* | *,all,*)
            curl -fsS -o /dev/null --max-time 4 "http://127.0.0.1:$WWW_PORT/api/v2/masters" ||
                die "GET /api/v2/masters on port $WWW_PORT failed"
            ;;
        esac
        case ",$ROLES," in
        *,builder,* | *,all,*)
            (exec 3<>"/dev/tcp/127.0.0.1/$WORKER_PORT") 2>/dev/null ||
                die "nothing listens for workers on port $WORKER_PORT"
            ;;
        esac
        ;;
    *) die "unknown mode in $HEALTH_FILE" ;;
    esac
}

command=${1:-master}
[ $# -eq 0 ] || shift
case "$command" in
master) run_master "$@" ;;
worker) run_worker "$@" ;;
upgrade-master)
    prepare_master
    exec ferrobot upgrade-master "$MASTER_DIR" "$@"
    ;;
checkconfig)
    prepare_master
    exec ferrobot checkconfig "$MASTER_DIR" "$@"
    ;;
health) health ;;
*) exec "$command" "$@" ;;
esac
