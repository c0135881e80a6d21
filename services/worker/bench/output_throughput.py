#!/usr/bin/env python3
"""Worker output throughput: a step prints N lines of 100 bytes (200 MB by default) through a
real `ferrobot-worker` into the master's stored log.

Prints MB/s from force to build complete, the stored stdout line count against the printed one,
the same output through a plain pipe (`| cat > /dev/null` and `| wc -l`) on this machine, and the
worker's RSS idle and at its peak (VmHWM) while streaming.

    cargo build --release -p ferrobot-master -p ferrobot-worker
    python3 services/worker/bench/output_throughput.py [--lines 2000000] [--bin target/release]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

LINE = "x" * 99  # plus the newline: 100 bytes a line


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def get(api, path):
    with urllib.request.urlopen(api + path, timeout=30) as reply:
        return json.load(reply)


def wait(what, check, timeout=120.0, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(every)
    raise RuntimeError(f"timed out waiting for {what}")


def plain_pipe(lines, sink):
    start = time.monotonic()
    out = subprocess.run(
        ["sh", "-c", f"yes {LINE} | head -n {lines} | {sink}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return time.monotonic() - start, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--bin", default="target/release")
    args = parser.parse_args()
    ferrobot = os.path.abspath(os.path.join(args.bin, "ferrobot"))
    worker_bin = os.path.abspath(os.path.join(args.bin, "ferrobot-worker"))
    megabytes = args.lines * 100 / 1e6
    work = tempfile.mkdtemp(prefix="ferrobot-output-bench-")
    master_dir, worker_dir = os.path.join(work, "master"), os.path.join(work, "worker")
    www, pb = free_port(), free_port()
    subprocess.run([ferrobot, "create-master", master_dir], check=True, capture_output=True)
    command = f"yes {LINE} | head -n {args.lines}"
    with open(os.path.join(master_dir, "master.cfg"), "w") as cfg:
        cfg.write(f"""from buildbot.plugins import *
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker("w1", "pw")]
c['protocols'] = {{'pb': {{'port': 'tcp:{pb}:interface=127.0.0.1'}}}}
c['www'] = dict(port={www}, plugins=dict())
c['db'] = {{'db_url': "sqlite:///state.sqlite"}}
c['buildbotURL'] = "http://127.0.0.1:{www}/"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="flood", command={command!r}))
c['builders'] = [util.BuilderConfig(name="flood", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["flood"])]
""")
    api = f"http://127.0.0.1:{www}/api/v2"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    master = subprocess.Popen([ferrobot, "start", master_dir], **quiet)
    worker = None
    try:
        wait("the master", lambda: get(api, "/masters") is not None)
        subprocess.run([worker_bin, "create-worker", worker_dir, f"127.0.0.1:{pb}", "w1", "pw"],
                       check=True, capture_output=True)
        worker = subprocess.Popen([worker_bin, "start", worker_dir], **quiet)
        wait("the worker", lambda: get(api, "/workers/w1")["workers"][0]["connected_to"])
        idle_rss = rss_kib(worker.pid, "VmRSS")
        body = json.dumps({"jsonrpc": "2.0", "method": "force", "id": 1,
                           "params": {"builderNames": ["flood"]}}).encode()
        request = urllib.request.Request(api + "/forceschedulers/force", data=body,
                                         headers={"Content-Type": "application/json"})
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as reply:
            brid = next(iter(json.load(reply)["result"][1].values()))
        wait("the build", lambda: get(api, f"/buildrequests/{brid}")["buildrequests"][0]["complete"],
             timeout=1800, every=0.02)
        elapsed = time.monotonic() - start
        peak_rss = rss_kib(worker.pid, "VmHWM")
        build = get(api, f"/builds?buildrequestid={brid}")["builds"][-1]
        step = [s for s in get(api, f"/builds/{build['buildid']}/steps")["steps"]
                if s["name"] == "flood"][0]
        log = get(api, f"/steps/{step['stepid']}/logs")["logs"][0]
        stored = 0
        with urllib.request.urlopen(f"{api}/logs/{log['logid']}/raw", timeout=600) as raw:
            for line in raw:
                stored += line.rstrip(b"\n") == LINE.encode()
        cat_s, _ = plain_pipe(args.lines, "cat > /dev/null")
        wc_s, wc_lines = plain_pipe(args.lines, "wc -l")
    finally:
        for process in (worker, master):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
    print(f"output: {args.lines} lines, {megabytes:.0f} MB; build result {build['results']}")
    print(f"through the worker into the stored log: {elapsed:.2f} s, {megabytes / elapsed:.1f} MB/s")
    print(f"stored stdout lines: {stored} (printed {args.lines}; log num_lines {log['num_lines']} "
          f"with header and exit lines)")
    print(f"plain pipe | cat > /dev/null: {cat_s:.2f} s, {megabytes / cat_s:.0f} MB/s")
    print(f"plain pipe | wc -l: {wc_s:.2f} s, {megabytes / wc_s:.0f} MB/s ({wc_lines} lines)")
    print(f"worker RSS: idle {idle_rss / 1024:.1f} MB, peak while streaming {peak_rss / 1024:.1f} MB")
    return 0 if stored == args.lines and build["results"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
