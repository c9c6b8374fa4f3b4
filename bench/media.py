#!/usr/bin/env python3
"""Memory of streamed uploads: wecomd's resident memory while 20 MiB files are uploaded through
media/upload and through a group robot's webhook/upload_media, one at a time and 8 at once, on a
fresh wecomd (release) each time.

For each backend (SQLite; PostgreSQL too when BENCH_PG is a base URL such as
postgres://postgres@127.0.0.1:5432/postgres) and each concurrency (1 and 8):
  start wecomd, upload one small file (warm-up), read VmRSS (baseline), upload N files of
  BENCH_MIB MiB (default 20) from N threads at once, read VmHWM (peak resident memory over the
  process's life); then download every media/upload file and compare its md5 (a robot keeps only
  a file's name and size).
Prints baseline, peak, growth, growth per concurrent upload, the 8-vs-1 growth ratio and the
upload throughput. An upload held whole in memory would cost at least its size per request.

Run from the repository root: .venv/bin/python bench/media.py
"""

import hashlib
import os
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from contacts import ROOT, log, rss_kib, save_report, start, stop, target_dir

MIB = int(os.environ.get("BENCH_MIB", "20"))
CORPID = "ww00000000000d5e6f"
APP = "bench-media-app-secret-xxxxxxxxxxxxxxxxxxx"
SEED = f'[[corp]]\ncorpid = "{CORPID}"\nname = "Bench"\n\n[[corp.app]]\nagentid = 1000002\nname = "Files"\nsecret = "{APP}"\nallow_parties = [1]\n'


def upload(base, path, params, name, data):
    r = requests.post(f"{base}/cgi-bin/{path}", params={**params, "type": "file"},
                      files={"media": (name, data, "application/octet-stream")}, timeout=600)
    body = r.json()
    if body.get("errcode") != 0:
        raise SystemExit(f"{path} answered {body}")
    return body["media_id"]


def database(backend, work):
    if backend == "sqlite":
        return ["--data-dir", str(work / "data")], lambda: None
    name = "wecomd_bench_" + uuid.uuid4().hex[:12]
    base = os.environ["BENCH_PG"]
    subprocess.run(["psql", base, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
    url = base[: base.rfind("/") + 1] + name
    return ["--database", url, "--data-dir", str(work / "data")], lambda: subprocess.run(
        ["psql", base, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)


def scenario(binary, backend, robot, n, files):
    work = Path(tempfile.mkdtemp(prefix="wecomd-media-"))
    (work / "seed.toml").write_text(SEED)
    args, drop = database(backend, work)
    wecomd, base = start([str(binary), "--listen", "127.0.0.1:0", *args, "--seed", str(work / "seed.toml"), "--no-demo", "--no-rate-limits"])
    try:
        token = requests.get(f"{base}/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": APP}).json()["access_token"]
        if robot:
            key = requests.post(f"{base}/control/corps/{CORPID}/robots", json={"chatid": "bench"}).json()["key"]
            path, params = "webhook/upload_media", {"key": key}
        else:
            path, params = "media/upload", {"access_token": token}
        upload(base, path, params, "warm.txt", b"warm-up file")
        time.sleep(0.5)
        baseline = rss_kib(wecomd.pid, "VmRSS")
        ids = [None] * n
        def one(i):
            ids[i] = upload(base, path, params, f"f{i}.bin", files[i])
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - t0
        peak = rss_kib(wecomd.pid, "VmHWM")
        for i, media_id in enumerate(ids if not robot else []):
            got = requests.get(f"{base}/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}, timeout=600)
            if hashlib.md5(got.content).digest() != hashlib.md5(files[i]).digest():
                raise SystemExit(f"file {i} came back different")
        return baseline, peak, took
    finally:
        stop(wecomd)
        drop()


def main():
    log("building (release)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "wecomd", "--bin", "wecomd"], cwd=ROOT, check=True)
    binary = target_dir() / "release/wecomd"
    files = [os.urandom(MIB * 1024 * 1024) for _ in range(8)]
    backends = ["sqlite"] + (["postgres"] if os.environ.get("BENCH_PG") else [])
    report = [f"media bench — {time.strftime('%Y-%m-%dT%H:%M:%S')} — {MIB} MiB files (type=file), release; "
              "RSS from /proc/<pid>/status: baseline VmRSS after a warm-up upload, peak VmHWM after the uploads"]
    for backend in backends:
        for robot in (False, True):
            what = f"{backend}, {'webhook/upload_media' if robot else 'media/upload'}"
            growth = {}
            for n in (1, 8):
                log(f"{what}: {n} upload(s) of {MIB} MiB")
                baseline, peak, took = scenario(binary, backend, robot, n, files)
                growth[n] = peak - baseline
                report.append(f"{what}, {n} concurrent: baseline {baseline / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, growth {growth[n] / 1024:.1f} MiB "
                              f"({growth[n] / 1024 / n:.1f} MiB per upload); {n * MIB / took:.0f} MiB/s uploaded in {took:.1f} s")
            report.append(f"{what}: growth with 8 concurrent / growth with 1 = {growth[8] / max(growth[1], 1):.2f} "
                          f"(an upload held whole would add ≥ {MIB} MiB each: ≥ {8 * MIB} MiB for 8)")
    save_report("media", report)


if __name__ == "__main__":
    main()
