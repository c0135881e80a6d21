#!/usr/bin/env bash
# The README's run command: builds Ferrobot and runs `ferrobot quickstart` (or the ferrobot
# command given as arguments). The etcd coordinator's gRPC client needs `protoc` at build time;
# this installs Debian's protobuf-compiler and libprotobuf-dev when they are missing.
#
#   bash scripts/run.sh                      single node: sample repository, master, worker
#   bash scripts/run.sh start ~/ci/master    any other ferrobot command
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "scripts/run.sh: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

if ! command -v protoc >/dev/null 2>&1 || [ ! -e /usr/include/google/protobuf/descriptor.proto ]; then
    command -v apt-get >/dev/null 2>&1 || {
        echo "scripts/run.sh: protoc is missing and there is no apt-get to install it" >&2
        exit 1
    }
    echo "==> installing protobuf-compiler and libprotobuf-dev (needed to build the etcd client)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends protobuf-compiler libprotobuf-dev >/dev/null
fi
if [ $# -eq 0 ]; then
    set -- quickstart
fi
exec cargo run --release --bin ferrobot -- "$@"
