"""Messages through wechatpy's client.message, in both dialects on one corp, checked against the
member inbox of the control API."""

from support import APP_AGENTID, APP_SECRET, CORPID, GROUP2_SECRET, GROUP_SECRET, SYNC_SECRET, assert_wecom_errmsg, raises


def inbox(server, userid):
    return server.control("GET", f"/corps/{CORPID}/members/{userid}/inbox")


def upload(client, media_type, name, data):
    return client.media.upload(media_type, (name, data, "application/octet-stream"))["media_id"]


def test_wecom_send_every_common_type(server):
    client = server.client(APP_SECRET)
    message = client.message
    image = upload(client, "image", "a.jpg", b"\xff\xd8\xff\xe0 a picture")
    voice = upload(client, "voice", "a.amr", b"#!AMR\n" + b"\x3c" + b"\0" * 31)
    video = upload(client, "video", "a.mp4", b"\0\0\0\x18ftypmp42 a video")
    file = upload(client, "file", "a.txt", b"a file")
    res = message.send_text(APP_AGENTID, ["zhangsan", "lisi"], "hello")
    assert res["errcode"] == 0 and res["errmsg"] == "ok" and res["msgid"], res
    assert message.send_text_card(APP_AGENTID, "zhangsan", "Prize", "You won", "https://example.com")["errcode"] == 0
    assert message.send_image(APP_AGENTID, "zhangsan", image)["errcode"] == 0
    assert message.send_voice(APP_AGENTID, "zhangsan", voice)["errcode"] == 0
    assert message.send_video(APP_AGENTID, "zhangsan", video, title="Clip")["errcode"] == 0
    assert message.send_file(APP_AGENTID, "zhangsan", file)["errcode"] == 0
    articles = [{"title": "News", "description": "d", "url": "https://example.com", "image": "https://example.com/p.png"}]
    assert message.send_articles(APP_AGENTID, "zhangsan", articles)["errcode"] == 0
    mp = [{"thumb_media_id": image, "author": "me", "title": "MP", "content": "<p>x</p>", "content_source_url": "",
           "digest": "", "show_cover_pic": 0}]
    assert message.send_mp_articles(APP_AGENTID, "zhangsan", mp, safe=2)["errcode"] == 0
    assert message.send_markdown(APP_AGENTID, "zhangsan", "**bold**")["errcode"] == 0
    got = inbox(server, "zhangsan")
    assert [m["msgtype"] for m in got] == ["text", "textcard", "image", "voice", "video", "file", "news", "mpnews", "markdown"]
    assert got[0]["content"] == {"content": "hello"} and got[0]["msgid"] == res["msgid"]
    assert got[1]["content"]["btntxt"] == "详情", "wechatpy's default button text"
    assert got[7]["safe"] == 2
    assert [m["msgtype"] for m in inbox(server, "lisi")] == ["text"]


def test_wecom_partial_and_invalid_recipients(server):
    message = server.client(APP_SECRET).message
    res = message.send_text(APP_AGENTID, ["zhangsan", "Nobody"], "x", party_ids=["2", "404"], tag_ids=["77"])
    assert res["errcode"] == 0
    assert res["invaliduser"] == "nobody" and res["invalidparty"] == "404" and res["invalidtag"] == "77", res
    e = raises(message.send_text, APP_AGENTID, "ghost", "x")
    assert e.errcode == 81013
    assert_wecom_errmsg(e.errmsg, "user & party & tag all invalid", 81013)
    assert raises(message.send_text, APP_AGENTID, "", "x").errcode == 82001
    assert raises(message.send_text, 1000003, "zhangsan", "x").errcode == 301002
    assert raises(message.send_text, APP_AGENTID, "zhangsan", "").errcode == 44004
    assert raises(server.client(SYNC_SECRET).message.send_text, APP_AGENTID, "zhangsan", "x").errcode == 48002
    res = message.send_text(APP_AGENTID, "@all", "all hands")
    assert res["errcode"] == 0
    assert inbox(server, "lisi")[-1]["content"] == {"content": "all hands"}


def test_wecom_recall(server):
    client = server.client(APP_SECRET)
    msgid = client.message.send_text(APP_AGENTID, "zhangsan", "oops")["msgid"]
    res = client.post("message/recall", data={"msgid": msgid})
    assert res == {"errcode": 0, "errmsg": "ok"}
    assert inbox(server, "zhangsan")[0]["recalled"] is True
    msgid = client.message.send_text(APP_AGENTID, "zhangsan", "late")["msgid"]
    server.advance(24 * 3600 + 1)
    e = raises(client.post, "message/recall", data={"msgid": msgid})
    assert e.errcode == 42052


def test_wecom_template_card_update(server):
    client = server.client(APP_SECRET)
    card = {"card_type": "button_interaction", "task_id": "t1", "main_title": {"title": "Approve?"},
            "button_list": [{"text": "Yes", "key": "yes"}]}
    res = client.message.send(APP_AGENTID, "zhangsan|lisi", msg={"msgtype": "template_card", "template_card": card})
    assert res["errcode"] == 0 and res["response_code"], res
    update = {"userids": ["zhangsan"], "agentid": APP_AGENTID, "response_code": res["response_code"],
              "button": {"replace_name": "Approved"}}
    assert client.post("message/update_template_card", data=update) == {"errcode": 0, "errmsg": "ok", "invaliduser": []}
    assert inbox(server, "zhangsan")[0]["card_update"] == {"button": {"replace_name": "Approved"}}
    assert inbox(server, "lisi")[0]["card_update"] is None
    assert raises(client.post, "message/update_template_card", data=update).errcode == 60140


def test_wecom_taskcard_update(server):
    client = server.client(APP_SECRET)
    card = {"title": "Gift request", "description": "A31 tea set", "task_id": "gift-1",
            "btn": [{"key": "approve", "name": "批准", "color": "red"}, {"key": "reject", "name": "驳回"}]}
    res = client.message.send(APP_AGENTID, "zhangsan|lisi", msg={"msgtype": "interactive_taskcard", "interactive_taskcard": card})
    assert res["errcode"] == 0 and "response_code" not in res, res
    update = {"userids": ["zhangsan", "ghost"], "agentid": APP_AGENTID, "task_id": "gift-1", "replace_name": "已批准"}
    assert client.post("message/update_taskcard", data=update) == {"errcode": 0, "errmsg": "ok", "invaliduser": ["ghost"]}
    assert inbox(server, "zhangsan")[0]["card_update"] == {"replace_name": "已批准"}
    assert inbox(server, "lisi")[0]["card_update"] is None
    e = raises(client.post, "message/update_taskcard", data=dict(update, replace_name=None, clicked_key="maybe"))
    assert e.errcode == 42017
    assert_wecom_errmsg(e.errmsg, "button key is not exist", 42017)
    assert raises(client.post, "message/update_taskcard", data=dict(update, task_id="nope")).errcode == 42016


def test_legacy_send_and_refusals(server):
    legacy = server.client(GROUP_SECRET).message
    res = legacy.send_text(APP_AGENTID, ["zhangsan", "ghost"], "from 企业号")
    assert res == {"errcode": 0, "errmsg": "ok", "invaliduser": "ghost"}, "no msgid in 企业号"
    assert inbox(server, "zhangsan")[0]["sender"] == "group:1"
    e = raises(legacy.send_markdown, APP_AGENTID, "zhangsan", "**x**")
    assert e.errcode == 40008 and e.errmsg.startswith("invalid message type"), "企业号 had no markdown"
    # The 企业号 took 1-10 news articles, WeCom 1-8.
    article = {"title": "News", "description": "d", "url": "https://example.com", "image": "https://example.com/p.png"}
    assert legacy.send_articles(APP_AGENTID, "zhangsan", [article] * 10) == {"errcode": 0, "errmsg": "ok"}
    assert len(inbox(server, "zhangsan")[1]["content"]["articles"]) == 10
    assert raises(legacy.send_articles, APP_AGENTID, "zhangsan", [article] * 11).errcode == 45008
    assert raises(server.client(APP_SECRET).message.send_articles, APP_AGENTID, "zhangsan", [article] * 9).errcode == 45008
    assert raises(server.client(GROUP2_SECRET).message.send_text, APP_AGENTID, "zhangsan", "x").errcode == 60011
    e = raises(server.client(GROUP_SECRET).post, "message/recall", data={"msgid": "x"})
    assert e.errcode == 48002


def test_wecom_throttle_drops_silently(server):
    """The 31st message of a minute from one app to one member is a success to wechatpy, and the
    member never gets it."""
    server.advance(60 - server.now() % 60)
    message = server.client(APP_SECRET).message
    for i in range(31):
        res = message.send_text(APP_AGENTID, "zhangsan", f"n{i}")
        assert res["errcode"] == 0 and res["msgid"], res
    got = inbox(server, "zhangsan")
    assert [m["content"]["content"] for m in got] == [f"n{i}" for i in range(30)]


def test_wecom_at_all_while_the_fan_out_is_pending(server):
    """@all answers with its msgid before its rows are written; recall and the inbox behave as if
    they had been."""
    server.control("PUT", "/fanouts", json={"paused": True})
    client = server.client(APP_SECRET)
    res = client.message.send_text(APP_AGENTID, "@all", "all hands")
    assert res["errcode"] == 0 and res["msgid"], res
    assert [p["msgid"] for p in server.control("GET", "/fanouts")["pending"]] == [res["msgid"]]
    assert client.post("message/recall", data={"msgid": res["msgid"]}) == {"errcode": 0, "errmsg": "ok"}
    for userid in ("zhangsan", "lisi"):
        assert inbox(server, userid)[-1]["msgid"] == res["msgid"]
        assert inbox(server, userid)[-1]["recalled"] is True
    assert server.control("GET", "/fanouts")["pending"] == []
