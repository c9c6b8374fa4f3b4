#!/usr/bin/env python3
"""message/send at scale: wecomd (release, SQLite) with a corp of BENCH_MEMBERS members (default
100,000), all in the sending app's visible range.

Measures, in one run:
  1. message/send to one member under wrk (POST), next to the hello-world server's getcallbackip
     under the same wrk settings, as a ratio;
  2. message/send to @all: how long the request takes to answer (the message and its audience are
     committed; the recipient rows are written afterwards), and how long until the fan-out is
     complete (GET /control/fanouts shows nothing pending; no inbox read, which would finish it
     itself), next to the one-member send's latency; then that every member's inbox holds it.

Run from the repository root: .venv/bin/python bench/message.py  (wrk must be installed;
bench/run.sh installs it). Everything stays on 127.0.0.1. Shares its helpers with contacts.py.
"""

import json
import os
import time

import requests

from contacts import WRK, launch, log, rss_kib, save_report, stop, write_corp, wrk

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "100000"))
ALL_RUNS = int(os.environ.get("BENCH_ALL_RUNS", "5"))
DEPTS = 50
CORPID = "ww00000000000c4d5e"
APP = "bench-message-app-secret-xxxxxxxxxxxxxxxxx"
AGENTID = 1000002


def write_seed(path):
    members = ((f"u{i:07d}", f"M{i}", 2 + i % DEPTS, None) for i in range(MEMBERS))
    write_corp(path, CORPID, [(AGENTID, "Notify", APP)], range(2, 2 + DEPTS), members)


def body(touser, content):
    return json.dumps({"touser": touser, "msgtype": "text", "agentid": AGENTID, "text": {"content": content}})


def main():
    work, seed, wecomd, base, hello, hello_base = launch("message", MEMBERS, write_seed)
    report = [f"message bench — {time.strftime('%Y-%m-%dT%H:%M:%S')} — {MEMBERS} members, SQLite, release, {' '.join(WRK)}"]
    try:
        r = requests.post(base + "/control/seed", data=seed.read_bytes(), timeout=3600)
        if r.status_code != 200:
            raise SystemExit(f"seed refused: {r.status_code} {r.text[:500]}")
        token = requests.get(f"{base}/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": APP}).json()["access_token"]
        send = f"{base}/cgi-bin/message/send?access_token={token}"
        one = body("u0000001", "ping")
        answer = requests.post(send, data=one).json()
        if answer.get("errcode") != 0:
            raise SystemExit(f"message/send answered {answer}")

        single = []
        for n in range(ALL_RUNS):
            t0 = time.monotonic()
            requests.post(send, data=body(f"u{n:07d}", "one"), timeout=60)
            single.append(time.monotonic() - t0)
        times, done = [], []
        for n in range(ALL_RUNS):
            t0 = time.monotonic()
            answer = requests.post(send, data=body("@all", f"all hands {n}"), timeout=600).json()
            times.append(time.monotonic() - t0)
            if answer.get("errcode") != 0:
                raise SystemExit(f"@all answered {answer}")
            while requests.get(f"{base}/control/fanouts").json()["pending"]:
                time.sleep(0.005)
            done.append(time.monotonic() - t0)
        last = requests.get(f"{base}/control/corps/{CORPID}/members/u{MEMBERS - 1:07d}/inbox").json()
        alls = [m for m in last if m["content"]["content"].startswith("all hands")]
        if len(alls) != ALL_RUNS or alls[-1]["recipients"] != MEMBERS:
            raise SystemExit(f"the last member's inbox holds {len(alls)} @all messages, recipients {alls[-1]['recipients'] if alls else None}")
        ms = lambda xs: f"median {sorted(xs)[len(xs) // 2] * 1000:.1f} ms (min {min(xs) * 1000:.1f}, max {max(xs) * 1000:.1f})"
        median = lambda xs: sorted(xs)[len(xs) // 2]
        report.append(f"message/send to one member, one request at a time: {ms(single)}")
        report.append(
            f"message/send to @all ({MEMBERS} recipients), answer: {ms(times)}, "
            f"{median(times) / median(single):.2f}x a one-member send"
        )
        report.append(
            f"message/send to @all, fan-out complete: {ms(done)}, {MEMBERS / median(done):.0f} recipient rows/s; "
            f"answer/complete {median(times) / median(done):.3f}; over {ALL_RUNS} sends; wecomd peak RSS {rss_kib(wecomd.pid, 'VmHWM') / 1024:.0f} MiB"
        )
        # Last: wrk's thousands of sends to one member use up its throttle.
        hello_rps, hello_p99 = wrk(f"{hello_base}/cgi-bin/getcallbackip")
        report.append(f"hello-world getcallbackip: {hello_rps:.0f} req/s, p99 {hello_p99}")
        lua = work / "post.lua"
        lua.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(one)}\n')
        rps, p99 = wrk(send, lua)
        report.append(f"message/send to one member: {rps:.0f} req/s, p99 {p99}, {100 * rps / hello_rps:.1f}% of hello-world")
    finally:
        stop(wecomd, hello)
    save_report("message", report)


if __name__ == "__main__":
    main()
