#!/usr/bin/env python3
"""Batch import at scale: batch/replaceuser of a CSV with BENCH_MEMBERS rows (default 100,000)
into an empty corp, on wecomd (release, SQLite), next to the same members loaded through
POST /control/seed (what bench/contacts.py measures) on a second fresh wecomd in the same run.

Measures, for each: seconds from the call to the members being there (the import: from
media/upload of the CSV until getresult answers status 3; the seed: the POST's answer), and
wecomd's peak resident memory (VmHWM from /proc) after it. Prints both and their ratios.

Run from the repository root: .venv/bin/python bench/batch.py
"""

import os
import time

import requests

from contacts import launch, log, rss_kib, save_report, stop

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "100000"))
DEPTS = 50
CORPID = "ww00000000000b4a7c"
SYNC = "bench-batch-sync-secret-xxxxxxxxxxxxxxxxxx"


def corp_seed(members):
    """The corp with DEPTS departments and, for the reference, the members themselves."""
    parts = [f'[[corp]]\ncorpid = "{CORPID}"\nname = "Bench"\ncontact_sync_secret = "{SYNC}"\n\n']
    parts += [f'[[corp.department]]\nid = {d}\nname = "D{d}"\nparentid = 1\n\n' for d in range(2, 2 + DEPTS)]
    parts += [f'[[corp.member]]\nuserid = "u{i:07d}"\nname = "M{i}"\ndepartment = [{2 + i % DEPTS}]\nmobile = "1{i:010d}"\n\n' for i in range(members)]
    return "".join(parts)


def member_csv():
    rows = ["姓名,帐号,手机号,所在部门"] + [f"M{i},u{i:07d},1{i:010d},{2 + i % DEPTS}" for i in range(MEMBERS)]
    return ("\n".join(rows) + "\n").encode("utf-8")


def seed(base, text):
    r = requests.post(base + "/control/seed", data=text.encode("utf-8"), timeout=3600)
    if r.status_code != 200:
        raise SystemExit(f"seed refused: {r.status_code} {r.text[:300]}")


def import_members(base):
    """replaceuser of the CSV; seconds from the upload to the end of the job."""
    token = requests.get(f"{base}/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": SYNC}).json()["access_token"]
    data = member_csv()
    t0 = time.monotonic()
    up = requests.post(f"{base}/cgi-bin/media/upload", params={"access_token": token, "type": "file"},
                       files={"media": ("members.csv", data, "text/csv")}, timeout=600).json()
    job = requests.post(f"{base}/cgi-bin/batch/replaceuser?access_token={token}", json={"media_id": up["media_id"]}, timeout=600).json()
    if job.get("errcode") != 0:
        raise SystemExit(f"replaceuser answered {job}")
    answered = time.monotonic() - t0
    while True:
        res = requests.get(f"{base}/cgi-bin/batch/getresult", params={"access_token": token, "jobid": job["jobid"]}, timeout=600).json()
        if res.get("status") == 3:
            break
        time.sleep(0.2)
    took = time.monotonic() - t0
    failed = [r for r in res["result"] if r["errcode"] != 0]
    if len(res["result"]) != MEMBERS or failed:
        raise SystemExit(f"the job processed {len(res['result'])} rows, {len(failed)} failed: {failed[:3]}")
    return answered, took, len(data)


def main():
    report = [f"batch bench — {time.strftime('%Y-%m-%dT%H:%M:%S')} — replaceuser of {MEMBERS} members vs POST /control/seed, SQLite, release"]
    _, seed_file, wecomd, base, hello, _ = launch("batch-seed", MEMBERS, lambda path: path.write_text(corp_seed(MEMBERS), encoding="utf-8"))
    stop(hello)
    try:
        text = seed_file.read_text(encoding="utf-8")
        t0 = time.monotonic()
        seed(base, text)
        seed_secs = time.monotonic() - t0
        seed_hwm = rss_kib(wecomd.pid, "VmHWM")
    finally:
        stop(wecomd)
    _, _, wecomd, base, hello, _ = launch("batch-import", 0, lambda path: path.write_text(corp_seed(0), encoding="utf-8"))
    stop(hello)
    try:
        seed(base, corp_seed(0))
        base_rss = rss_kib(wecomd.pid, "VmRSS")
        answered, import_secs, size = import_members(base)
        import_hwm = rss_kib(wecomd.pid, "VmHWM")
    finally:
        stop(wecomd)
    report.append(f"POST /control/seed of {MEMBERS} members: {seed_secs:.1f} s; wecomd peak RSS {seed_hwm / 1024:.0f} MiB")
    report.append(
        f"batch/replaceuser of a {size / 1e6:.1f} MB CSV: answered in {answered:.1f} s (upload, read, {MEMBERS} rows stored), "
        f"finished after {import_secs:.1f} s; wecomd RSS {base_rss / 1024:.0f} MiB before, peak {import_hwm / 1024:.0f} MiB"
    )
    report.append(f"ratios batch/seed: time {import_secs / seed_secs:.2f}, peak memory {import_hwm / seed_hwm:.2f}")
    log("done")
    save_report("batch", report)


if __name__ == "__main__":
    main()
