#!/usr/bin/env python3
"""tag/addtagusers and tag/deltagusers with 1000 users a call (the per-call maximum).

Starts the wecomd binary WECOMD_BIN (default <target>/release/wecomd) with --no-rate-limits on
SQLite (a temporary data directory) or, with BENCH_PG=postgres://…/db, on that PostgreSQL
database (emptied first through the control API's reset), seeds a corp of 2000 members in 20
departments, and times ROUNDS rounds of: a new tag, addtagusers of 1000 users, deltagusers of the
same 1000. Prints the median and the range of each.

    WECOMD_BIN=target/debug/wecomd .venv/bin/python bench/tags.py
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

CORPID = "ww00000000000a7a95"
SYNC = "bench-sync-secret-xxxxxxxxxxxxxxxxxxxxxxxx"
MEMBERS = 2000
DEPTS = 20
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))


def binary():
    if os.environ.get("WECOMD_BIN"):
        return os.environ["WECOMD_BIN"]
    root = Path(__file__).resolve().parent.parent
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=root, capture_output=True, check=True)
    return str(Path(json.loads(meta.stdout)["target_directory"]) / "release/wecomd")


def seed():
    out = [f'[[corp]]\ncorpid = "{CORPID}"\nname = "Bench"\ncontact_sync_secret = "{SYNC}"\n']
    out += [f'[[corp.department]]\nid = {d}\nname = "D{d}"\nparentid = 1\n' for d in range(2, 2 + DEPTS)]
    out += [f'[[corp.member]]\nuserid = "u{i:05d}"\nname = "M{i}"\ndepartment = [{2 + i % DEPTS}]\nmobile = "1{i:010d}"\n' for i in range(MEMBERS)]
    return "\n".join(out)


def main():
    work = tempfile.mkdtemp(prefix="wecomd-tags-")
    database = ["--database", os.environ["BENCH_PG"]] if os.environ.get("BENCH_PG") else ["--data-dir", work]
    p = subprocess.Popen([binary(), "--listen", "127.0.0.1:0", "--no-demo", "--no-rate-limits"] + database, stdout=subprocess.PIPE, stderr=open(os.path.join(work, "wecomd.log"), "w"), text=True)
    try:
        base = re.search(r"http://127\.0\.0\.1:\d+", p.stdout.readline()).group(0)
        http = requests.Session()
        http.post(base + "/control/reset").raise_for_status()
        http.post(base + "/control/seed", data=seed().encode()).raise_for_status()
        token = http.get(base + "/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": SYNC}).json()["access_token"]
        users = [f"u{i:05d}" for i in range(0, MEMBERS, 2)]

        def call(path, body):
            t0 = time.monotonic()
            r = http.post(f"{base}/cgi-bin/tag/{path}?access_token={token}", data=json.dumps(body)).json()
            took = time.monotonic() - t0
            if r.get("errcode") != 0 or "invalidlist" in r:
                raise SystemExit(f"tag/{path} answered {str(r)[:300]}")
            return took, r

        adds, dels = [], []
        for n in range(ROUNDS):
            _, r = call("create", {"tagname": f"bench{n}"})
            tagid = r["tagid"]
            adds.append(call("addtagusers", {"tagid": tagid, "userlist": users})[0])
            dels.append(call("deltagusers", {"tagid": tagid, "userlist": users})[0])
        backend = "PostgreSQL" if os.environ.get("BENCH_PG") else "SQLite"
        for name, t in (("addtagusers", adds), ("deltagusers", dels)):
            print(f"{name} of {len(users)} users ({backend}, {ROUNDS} rounds): median {statistics.median(t) * 1000:.0f} ms, min {min(t) * 1000:.0f}, max {max(t) * 1000:.0f}")
    finally:
        p.kill()


if __name__ == "__main__":
    sys.exit(main())
