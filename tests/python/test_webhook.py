"""Group robots (群机器人) the way notification scripts use them: requests posting JSON to the
webhook URL, and a multipart upload (requests' own encoding) whose media_id a file message sends.
wechatpy has no robot client."""

import base64
import hashlib

from support import APP_SECRET, CORPID, assert_wecom_errmsg

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def robot(server, chatid="team1"):
    return server.control("POST", f"/corps/{CORPID}/robots", json={"chatid": chatid, "name": "Alarm"})["key"]


def send(server, key, body):
    r = server.http.post(f"{server.base_url}/cgi-bin/webhook/send", params={"key": key}, json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def upload(server, key, kind, name, data):
    r = server.http.post(
        f"{server.base_url}/cgi-bin/webhook/upload_media",
        params={"key": key, "type": kind},
        files={"media": (name, data, "application/octet-stream")},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_every_message_type(server):
    key = robot(server)
    bodies = [
        {"msgtype": "text", "text": {"content": "hi", "mentioned_list": ["zhangsan", "@all"], "mentioned_mobile_list": ["13800000001"]}},
        {"msgtype": "markdown", "markdown": {"content": "**x** <font color=\"info\">y</font>"}},
        {"msgtype": "markdown_v2", "markdown_v2": {"content": "# t\n- a"}},
        {"msgtype": "image", "image": {"base64": base64.b64encode(PNG).decode(), "md5": hashlib.md5(PNG).hexdigest()}},
        {"msgtype": "news", "news": {"articles": [{"title": "t", "url": "https://example.com"}]}},
        {"msgtype": "template_card", "template_card": {"card_type": "text_notice", "main_title": {"title": "T"}, "card_action": {"type": 1, "url": "https://example.com"}}},
    ]
    for body in bodies:
        assert send(server, key, body) == {"errcode": 0, "errmsg": "ok"}, body
    said = server.control("GET", f"/corps/{CORPID}/robots/{key}/messages")
    assert [m["msgtype"] for m in said] == [b["msgtype"] for b in bodies]
    assert len(server.control("GET", f"/corps/{CORPID}/chats/team1/messages")) == len(bodies)


def test_errors(server):
    key = robot(server)
    res = send(server, "00000000-0000-4000-8000-000000000000", {"msgtype": "text", "text": {"content": "x"}})
    assert res["errcode"] == 93000
    assert_wecom_errmsg(res["errmsg"], "invalid webhook url", 93000, server)
    assert send(server, key, {"msgtype": "video"})["errcode"] == 40008
    res = send(server, key, {"msgtype": "markdown", "markdown": {"content": "x" * 4097}})
    assert_wecom_errmsg(res["errmsg"], "markdown.content exceed max length 4096. invalid Request Parameter", 40058)
    for _ in range(20):
        assert send(server, key, {"msgtype": "text", "text": {"content": "tick"}})["errcode"] == 0
    res = send(server, key, {"msgtype": "text", "text": {"content": "tick"}})
    assert res["errcode"] == 45009
    server.advance(60)
    assert send(server, key, {"msgtype": "text", "text": {"content": "tick"}})["errcode"] == 0


def test_upload_then_send_a_file(server):
    key = robot(server)
    res = upload(server, key, "file", "report.txt", b"quarterly numbers")
    assert (res["errcode"], res["type"]) == (0, "file")
    assert isinstance(res["created_at"], str) and res["created_at"].isdigit()
    assert send(server, key, {"msgtype": "file", "file": {"media_id": res["media_id"]}})["errcode"] == 0
    said = server.control("GET", f"/corps/{CORPID}/robots/{key}/messages")
    assert said[-1]["payload"] == {"media_id": res["media_id"], "filename": "report.txt", "length": 17}
    assert upload(server, "not-a-key", "file", "empty.txt", b"")["errcode"] == 44001, "the file before the key"
    assert upload(server, "not-a-key", "file", "a.txt", b"hello")["errcode"] == 93000
    assert send(server, robot(server, "team2"), {"msgtype": "file", "file": {"media_id": res["media_id"]}})["errcode"] == 40007


def amr(frames):
    """An AMR-NB voice of `frames` 20 ms frames (12.2 kbit/s, 32 bytes each)."""
    return b"#!AMR\n" + (b"\x3c" + b"\x00" * 31) * frames


def test_voice_uploads(server):
    key = robot(server)
    res = upload(server, key, "voice", "hello.amr", amr(3000))
    assert (res["errcode"], res["type"]) == (0, "voice"), "60 s is allowed"
    assert send(server, key, {"msgtype": "voice", "voice": {"media_id": res["media_id"]}})["errcode"] == 0
    res = upload(server, key, "voice", "long.amr", amr(3001))
    assert res["errcode"] == 45007
    assert_wecom_errmsg(res["errmsg"], "voice playtime out of limit", 45007)
    assert upload(server, key, "voice", "a.mp3", b"ID3\x04" + b"\x00" * 64)["errcode"] == 301017
    assert upload(server, key, "voice", "big.amr", amr(1) + b"\x00" * (2 * 1024 * 1024))["errcode"] == 45001
    gif = b"GIF89a" + b"\x00" * 16
    res = send(server, key, {"msgtype": "image", "image": {"base64": base64.b64encode(gif).decode(), "md5": hashlib.md5(gif).hexdigest()}})
    assert res["errcode"] == 40004, "JPG or PNG only"


def test_a_robot_in_an_appchat(server):
    server.client(APP_SECRET).appchat.create(chat_id="ops", name="Ops", user_list=["zhangsan", "lisi"])
    made = server.control("POST", f"/corps/{CORPID}/robots", json={"chatid": "ops", "kind": "appchat", "name": "Alarm"})
    assert made["kind"] == "appchat"
    key = made["key"]
    assert send(server, key, {"msgtype": "markdown", "markdown": {"content": "**disk full**"}}) == {"errcode": 0, "errmsg": "ok"}
    log = server.control("GET", f"/corps/{CORPID}/appchats/ops/messages")
    assert [(m["sender"], m["agentid"], m["content"]) for m in log] == [(f"robot:{key}", 0, {"content": "**disk full**"})]
    for userid in ("zhangsan", "lisi"):
        assert server.control("GET", f"/corps/{CORPID}/members/{userid}/inbox")[0]["msgid"] == log[0]["msgid"]
    assert server.control("GET", f"/corps/{CORPID}/robots/{key}/messages") == log
    server.control("POST", f"/corps/{CORPID}/robots", expect=(404,), json={"chatid": "missing", "kind": "appchat"})
