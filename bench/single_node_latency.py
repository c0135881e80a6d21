#!/usr/bin/env python3
"""Force -> build complete latency and idle RSS of a single-node master and worker.

Runs Ferrobot (release build of this checkout) and, when a Buildbot virtualenv is given with
--buildbot-venv (buildbot, buildbot-worker from PyPI), real Buildbot on the same master.cfg,
alternating one forced build each, so both are measured in one run on the same machine.

    python3 bench/single_node_latency.py [--builds 50] [--buildbot-venv /tmp/ceo/venv-bb]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CFG = """from buildbot.plugins import *
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker("w1", "pw")]
c['protocols'] = {{'pb': {{'port': {wport}}}}}
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="true", command=["true"]))
c['builders'] = [util.BuilderConfig(name="trivial", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["trivial"])]
c['www'] = dict(port={hport}, plugins=dict())
c['buildbotURL'] = "http://127.0.0.1:{hport}/"
c['db'] = {{'db_url': "sqlite:///state.sqlite"}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def wait(pred, timeout, what, step=0.005):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            v = pred()
            if v:
                return v
        except Exception:
            pass
        time.sleep(step)
    raise SystemExit(f"timed out waiting for {what}")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class System:
    def __init__(self, name, tmp):
        self.name, self.tmp, self.procs = name, os.path.join(tmp, name), []
        os.makedirs(self.tmp)
        self.wport, self.hport = free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.hport}/api/v2"
        self.times = []

    def spawn(self, argv):
        log = open(os.path.join(self.tmp, os.path.basename(argv[0]) + ".log"), "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        return p

    def ready(self):
        wait(lambda: call("GET", self.api + "/builders"), 60, f"{self.name} REST API", 0.1)
        wait(lambda: any(w["connected_to"] for w in call("GET", self.api + "/workers")["workers"]), 60,
             f"{self.name} worker", 0.1)

    def force_once(self):
        t0 = time.perf_counter()
        reply = call("POST", self.api + "/forceschedulers/force",
                     {"jsonrpc": "2.0", "method": "force", "id": 1, "params": {"builderNames": ["trivial"]}})
        brid = list(reply["result"][1].values())[0]
        wait(lambda: call("GET", f"{self.api}/buildrequests/{brid}")["buildrequests"][0]["complete"], 60, "build")
        self.times.append(time.perf_counter() - t0)
        builds = call("GET", f"{self.api}/builds?buildrequestid={brid}")["builds"]
        if builds[-1]["results"] != 0:
            raise SystemExit(f"{self.name}: build not SUCCESS: {builds[-1]}")

    def stop(self):
        for p in reversed(self.procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


class Ferrobot(System):
    def start(self):
        bins = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
        master, worker = os.path.join(self.tmp, "master"), os.path.join(self.tmp, "worker")
        subprocess.run([f"{bins}/ferrobot", "create-master", master], check=True, capture_output=True)
        with open(os.path.join(master, "master.cfg"), "w") as f:
            f.write(CFG.format(wport=self.wport, hport=self.hport))
        self.master = self.spawn([f"{bins}/ferrobot", "start", master])
        subprocess.run([f"{bins}/ferrobot-worker", "create-worker", worker, f"127.0.0.1:{self.wport}", "w1", "pw"],
                       check=True, capture_output=True)
        self.worker = self.spawn([f"{bins}/ferrobot-worker", "start", worker])


class Buildbot(System):
    def __init__(self, name, tmp, venv):
        super().__init__(name, tmp)
        self.bin = os.path.join(venv, "bin")

    def start(self):
        master, worker = os.path.join(self.tmp, "master"), os.path.join(self.tmp, "worker")
        subprocess.run([f"{self.bin}/buildbot", "create-master", "-r", master], check=True, capture_output=True)
        cfg = CFG.format(wport=f"'tcp:{self.wport}:interface=127.0.0.1'", hport=self.hport)
        cfg = cfg.replace(f"port={self.hport},", f"port='tcp:{self.hport}:interface=127.0.0.1',")
        with open(os.path.join(master, "master.cfg"), "w") as f:
            f.write(cfg + "c['buildbotNetUsageData'] = None\n")
        self.master = self.spawn([f"{self.bin}/buildbot", "start", "--nodaemon", master])
        subprocess.run([f"{self.bin}/buildbot-worker", "create-worker", worker, f"127.0.0.1:{self.wport}", "w1", "pw"],
                       check=True, capture_output=True)
        self.worker = self.spawn([f"{self.bin}/buildbot-worker", "start", "--nodaemon", worker])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builds", type=int, default=50)
    ap.add_argument("--buildbot-venv")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "--bins"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="ferrobot-bench-")
    systems = [Ferrobot("ferrobot", tmp)]
    if args.buildbot_venv:
        systems.append(Buildbot("buildbot", tmp, args.buildbot_venv))
    try:
        for s in systems:
            s.start()
        for s in systems:
            s.ready()
        time.sleep(2)  # let start-up settle before reading idle memory; not a synchronisation
        idle = {s.name: (rss_mb(s.master.pid), rss_mb(s.worker.pid)) for s in systems}
        for s in systems:
            s.force_once()  # warm-up, not counted
            s.times.clear()
        for _ in range(args.builds):
            for s in systems:
                s.force_once()
        print(f"{'system':<10} {'builds':>6} {'median ms':>10} {'p95 ms':>8} {'master RSS MB':>14} {'worker RSS MB':>14}")
        for s in systems:
            t = sorted(s.times)
            p95 = t[int(0.95 * (len(t) - 1))]
            print(f"{s.name:<10} {len(t):>6} {statistics.median(t)*1000:>10.1f} {p95*1000:>8.1f} "
                  f"{idle[s.name][0]:>14.1f} {idle[s.name][1]:>14.1f}")
    finally:
        for s in systems:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
