#!/usr/bin/env python3
"""Contacts at scale: wecomd (release) with a corp of BENCH_MEMBERS members (default 1,000,000).

Measures, in one run:
  1. loading the corp through a seed file (POST /control/seed): seconds and wecomd's peak RSS;
  2. user/get and department/list throughput under wrk, next to the hello-world server's
     getcallbackip under the same wrk settings (the foundation's baseline), as ratios;
  3. user/list of a department holding 30,000 members: latency and RSS growth;
  4. user/list_id paging through every (member, department) row: pages, rows, seconds.

Run from the repository root: .venv/bin/python bench/contacts.py  (wrk must be installed;
bench/run.sh installs it). Everything stays on 127.0.0.1.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000000"))
BIG_DEPT = 30000  # members directly in department 2
DEPTS = 200  # departments 3.. hold the rest
CORPID = "ww00000000000b3c4d"
SYNC = "bench-sync-secret-xxxxxxxxxxxxxxxxxxxxxxxx"
APP = "bench-app-secret-xxxxxxxxxxxxxxxxxxxxxxxxx"
WRK = ["wrk", "-t2", "-c50", "-d" + os.environ.get("BENCH_DURATION", "10s"), "--latency"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def target_dir():
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, capture_output=True, check=True)
    return Path(json.loads(meta.stdout)["target_directory"])


def start(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not m:
        p.kill()
        raise SystemExit(f"no address from {cmd[0]}: {line!r}")
    return p, m.group(0)


def rss_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def write_corp(path, corpid, apps, departments, members, sync=None):
    """A seed of one corp: `apps` as (agentid, name, secret or None) seeing everyone, `departments`
    as ids of the root's sub-departments, `members` as (userid, name, department, mobile or None)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'[[corp]]\ncorpid = "{corpid}"\nname = "Bench"\n')
        f.write(f'contact_sync_secret = "{sync}"\n\n' if sync else "\n")
        for agentid, name, secret in apps:
            f.write(f'[[corp.app]]\nagentid = {agentid}\nname = "{name}"\n')
            f.write(f'secret = "{secret}"\n' if secret else "")
            f.write("allow_parties = [1]\n\n")
        for d in departments:
            f.write(f'[[corp.department]]\nid = {d}\nname = "D{d}"\nparentid = 1\n\n')
        for userid, name, dept, mobile in members:
            f.write(f'[[corp.member]]\nuserid = "{userid}"\nname = "{name}"\ndepartment = [{dept}]\n')
            f.write(f'mobile = "{mobile}"\n\n' if mobile else "\n")


def write_seed(path):
    """One corp: root, department 2 with 30,000 members, the rest spread over 200 departments."""
    members = ((f"u{i:07d}", f"M{i}", 2 if i < BIG_DEPT else 3 + (i % DEPTS), f"1{i:010d}") for i in range(MEMBERS))
    write_corp(path, CORPID, [(1000002, "All", APP)], range(2, 3 + DEPTS), members, sync=SYNC)


def wrk(url, script=None):
    """wrk against url; `script` is a Lua file (a POST body, as bench/message.py sends)."""
    out = subprocess.run(WRK + (["-s", str(script)] if script else []) + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad or "Socket errors" in out or rps < 1:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    return rps, p99


def main():
    _, seed, wecomd, base, hello, hello_base = launch("contacts", MEMBERS, write_seed)
    report = [f"contacts bench — {time.strftime('%Y-%m-%dT%H:%M:%S')} — {MEMBERS} members, SQLite, release, {' '.join(WRK)}"]
    try:
        t0 = time.monotonic()
        r = requests.post(base + "/control/seed", data=seed.read_bytes(), timeout=3600)
        load = time.monotonic() - t0
        if r.status_code != 200:
            raise SystemExit(f"seed refused: {r.status_code} {r.text[:500]}")
        report.append(f"load {MEMBERS} members through POST /control/seed: {load:.1f} s; wecomd peak RSS {rss_kib(wecomd.pid, 'VmHWM') / 1024:.0f} MiB")

        token = requests.get(f"{base}/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": APP}).json()["access_token"]
        sync = requests.get(f"{base}/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": SYNC}).json()["access_token"]
        user_get = f"{base}/cgi-bin/user/get?access_token={token}&userid=u{MEMBERS // 2:07d}"
        dept_list = f"{base}/cgi-bin/department/list?access_token={token}&id=3"
        for url in (user_get, dept_list):
            body = requests.get(url).json()
            if body.get("errcode") != 0:
                raise SystemExit(f"{url} answered {str(body)[:300]}")
        hello_rps, hello_p99 = wrk(f"{hello_base}/cgi-bin/getcallbackip")
        report.append(f"hello-world getcallbackip: {hello_rps:.0f} req/s, p99 {hello_p99}")
        for name, url in (("user/get", user_get), ("department/list?id=3", dept_list)):
            rps, p99 = wrk(url)
            report.append(f"{name}: {rps:.0f} req/s, p99 {p99}, {100 * rps / hello_rps:.1f}% of hello-world")

        before = rss_kib(wecomd.pid, "VmRSS")
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            body = requests.get(f"{base}/cgi-bin/user/list", params={"access_token": token, "department_id": 2}).json()
            times.append(time.monotonic() - t0)
            if body.get("errcode") != 0 or len(body["userlist"]) != BIG_DEPT:
                raise SystemExit(f"user/list answered {str(body)[:300]}")
        after = rss_kib(wecomd.pid, "VmRSS")
        report.append(f"user/list of {BIG_DEPT} members: median {sorted(times)[2] * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); RSS {before / 1024:.0f} → {after / 1024:.0f} MiB")

        t0 = time.monotonic()
        cursor, pages, rows = "", 0, 0
        while True:
            body = requests.post(f"{base}/cgi-bin/user/list_id?access_token={sync}", data=json.dumps({"cursor": cursor, "limit": 10000})).json()
            if body.get("errcode") != 0:
                raise SystemExit(f"list_id answered {str(body)[:300]}")
            pages += 1
            rows += len(body["dept_user"])
            cursor = body.get("next_cursor", "")
            if not cursor:
                break
        took = time.monotonic() - t0
        if rows != MEMBERS:
            raise SystemExit(f"list_id gave {rows} rows for {MEMBERS} members")
        report.append(f"list_id through {rows} rows: {pages} pages in {took:.1f} s ({took / pages * 1000:.0f} ms a page)")
    finally:
        stop(wecomd, hello)
    save_report("contacts", report)


def launch(name, members, write_seed):
    """Builds the release binaries, writes the bench's seed with `write_seed` and starts wecomd
    (SQLite in a temporary directory, no rate limits) and the hello-world server beside it."""
    log("building (release)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "wecomd", "--bin", "wecomd", "--example", "hello"], cwd=ROOT, check=True)
    tdir = target_dir()
    work = Path(tempfile.mkdtemp(prefix=f"wecomd-{name}-"))
    seed = work / "seed.toml"
    log(f"writing a seed with {members} members")
    write_seed(seed)
    wecomd, base = start([str(tdir / "release/wecomd"), "--listen", "127.0.0.1:0", "--data-dir", str(work / "data"), "--no-demo", "--no-rate-limits"])
    hello, hello_base = start([str(tdir / "release/examples/hello"), "127.0.0.1:0"])
    return work, seed, wecomd, base, hello, hello_base


def stop(*procs):
    for p in procs:
        p.kill()
        p.wait()


def save_report(name, report):
    """Prints the report and keeps it in bench/out/<name>-<timestamp>.txt."""
    out = ROOT / "bench/out"
    out.mkdir(parents=True, exist_ok=True)
    text = "\n".join(report) + "\n"
    (out / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
