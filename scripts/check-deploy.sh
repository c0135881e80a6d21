#!/usr/bin/env bash
# Offline checks of the deployment files (no Docker engine needed; toolchain.md §4.1):
#   1. deploy/docker-compose.yml is valid for Debian's docker-compose 1.29 (`config -q`);
#   2. deploy/master.cfg, the cluster's shared config, passes `ferrobot checkconfig`;
#   3. every worker of the compose file is declared in master.cfg's c['workers'];
#   4. deploy/docker/entrypoint.sh parses (bash -n; shellcheck when installed).
# Called by scripts/test.sh after the lint phase; runs on its own too:
#   scripts/check-deploy.sh
# FERROBOT_BIN=path/to/ferrobot uses that binary instead of building target/debug/ferrobot.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

COMPOSE=deploy/docker-compose.yml
MASTER_CFG=deploy/master.cfg
ENTRYPOINT=deploy/docker/entrypoint.sh

say() { printf '==> check-deploy: %s\n' "$*"; }
fail() {
    printf 'scripts/check-deploy.sh: FAILED: %s\n' "$*" >&2
    exit 1
}

command -v docker-compose >/dev/null 2>&1 ||
    fail "docker-compose not found (apt-get install --no-install-recommends docker-compose)"

say "docker-compose -f $COMPOSE config -q"
docker-compose -f "$COMPOSE" config -q ||
    fail "$COMPOSE is not a valid compose file (see the docker-compose message above)"

ferrobot=${FERROBOT_BIN:-}
if [ -z "$ferrobot" ]; then
    say "cargo build --bin ferrobot"
    cargo build -q --bin ferrobot || fail "cannot build the ferrobot binary for checkconfig"
    ferrobot=target/debug/ferrobot
fi
say "ferrobot checkconfig $MASTER_CFG"
"$ferrobot" checkconfig "$MASTER_CFG" ||
    fail "$MASTER_CFG is rejected by ferrobot checkconfig (the error above names file:line:col)"

say "workers of $COMPOSE are declared in $MASTER_CFG"
configured=$("$ferrobot" checkconfig "$MASTER_CFG" --dump 2>/dev/null |
    python3 -c 'import json, sys; print("\n".join(w["name"] for w in json.load(sys.stdin)["workers"]))') ||
    fail "cannot read the workers of $MASTER_CFG from checkconfig --dump"
composed=$(docker-compose -f "$COMPOSE" config |
    python3 -c 'import sys, yaml
for s in yaml.safe_load(sys.stdin)["services"].values():
    n = (s.get("environment") or {}).get("FERROBOT_WORKER_NAME")
    if n: print(n)') || fail "cannot read the worker services of $COMPOSE"
[ -n "$composed" ] || fail "$COMPOSE has no worker service (FERROBOT_WORKER_NAME)"
for name in $composed; do
    grep -qxF "$name" <<<"$configured" ||
        fail "worker $name of $COMPOSE is not in c['workers'] of $MASTER_CFG"
done

say "bash -n $ENTRYPOINT"
bash -n "$ENTRYPOINT" || fail "$ENTRYPOINT has a syntax error"
if command -v shellcheck >/dev/null 2>&1; then
    shellcheck "$ENTRYPOINT" scripts/check-deploy.sh || fail "shellcheck found problems"
fi

say "all deployment checks passed"
