"""The 企业号's permanent material through wechatpy 1.8.18's client.material, with a 管理组 token.

wechatpy's material API has quirks of its own, and the tests show what it meets against the
platform's behaviour: add_articles sends no agentid (41011), update_articles posts to
material/update_news, a path the platform never served (HTTP 404), get_count and batchget send
`agent_id` (41011), and get_url builds a URL on qyapi.weixin.qq.com (and takes the agentid only
as a string). The calls as the platform documents them go through client.get/client.post."""

import requests

from support import APP_AGENTID, APP_SECRET, CORPID, GROUP_SECRET, JPEG, RESTRICTED_AGENTID, local, raises


def article(title, thumb):
    return {"title": title, "thumb_media_id": thumb, "content": "<p>body</p>", "author": "zs", "digest": "d"}


def add_mpnews(client, thumb, *titles):
    body = {"agentid": APP_AGENTID, "mpnews": {"articles": [article(t, thumb) for t in titles]}}
    res = client.post("material/add_mpnews", data=body)
    assert res["errcode"] == 0 and res["errmsg"] == "ok", res
    return res["media_id"]


def test_add_download_and_delete(server):
    legacy = server.client(GROUP_SECRET)
    res = legacy.material.add(APP_AGENTID, "image", ("cover.jpg", JPEG, "image/jpeg"))
    assert set(res) == {"errcode", "errmsg", "media_id"} and res["errcode"] == 0, res
    image = res["media_id"]
    assert image.startswith("2"), image
    report = legacy.material.add(APP_AGENTID, "file", ("报告.txt", b"the report", "text/plain"))["media_id"]

    # get_url joins its parts as strings: the agentid must be given as one.
    r = server.http.get(local(server, legacy.material.get_url(str(APP_AGENTID), image)), timeout=30)
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["Content-disposition"] == f'attachment; filename="{image}.jpg"'
    # get_articles of a file: wechatpy cannot read it as JSON and hands back the response.
    res = legacy.material.get_articles(APP_AGENTID, report)
    assert isinstance(res, requests.Response) and res.content == b"the report"
    assert res.headers["Content-disposition"] == "attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A.txt"

    assert legacy.material.delete(APP_AGENTID, report) == {"errcode": 0, "errmsg": "deleted"}
    e = raises(legacy.material.get_articles, APP_AGENTID, report)
    assert (e.errcode, e.errmsg) == (40007, "invalid media_id")
    assert raises(legacy.material.delete, APP_AGENTID, report).errcode == 40007

    e = raises(legacy.material.add, APP_AGENTID, "image", ("a.gif", b"GIF89a" + b"\0" * 20, "image/gif"))
    assert e.errcode == 40004
    assert raises(legacy.material.add, APP_AGENTID, "file", ("a.txt", b"", "text/plain")).errcode == 44001


def test_articles(server):
    legacy = server.client(GROUP_SECRET)
    thumb = legacy.material.add(APP_AGENTID, "image", ("cover.jpg", JPEG, "image/jpeg"))["media_id"]
    # add_articles sends no agentid: the platform's 41011.
    e = raises(legacy.material.add_articles, [article("T", thumb)])
    assert (e.errcode, e.errmsg) == (41011, "agentid missing")

    news = add_mpnews(legacy, thumb, "One", "Two")
    res = legacy.material.get_articles(APP_AGENTID, news)
    assert set(res) == {"type", "mpnews"} and res["type"] == "mpnews", "no errcode/errmsg: %r" % res
    assert [a["title"] for a in res["mpnews"]["articles"]] == ["One", "Two"]
    assert res["mpnews"]["articles"][0] == {
        "title": "One",
        "thumb_media_id": thumb,
        "author": "zs",
        "content_source_url": "",
        "content": "<p>body</p>",
        "digest": "d",
        "show_cover_pic": 0,
    }

    # update_articles posts to material/update_news: an unknown path, HTTP 404, nothing changed.
    e = raises(legacy.material.update_articles, APP_AGENTID, news, [article("Changed", thumb)])
    assert e.errcode is None and e.response.status_code == 404 and e.response.content == b""
    assert [a["title"] for a in legacy.material.get_articles(APP_AGENTID, news)["mpnews"]["articles"]] == ["One", "Two"]
    body = {"agentid": APP_AGENTID, "media_id": news, "mpnews": {"articles": [article("Changed", thumb)]}}
    assert legacy.post("material/update_mpnews", data=body) == {"errcode": 0, "errmsg": "ok"}
    assert [a["title"] for a in legacy.material.get_articles(APP_AGENTID, news)["mpnews"]["articles"]] == ["Changed"]

    bad = {"agentid": APP_AGENTID, "mpnews": {"articles": [article("T", thumb)] * 11}}
    assert raises(legacy.post, "material/add_mpnews", data=bad).errcode == 45008
    assert legacy.material.delete(APP_AGENTID, news)["errmsg"] == "deleted"


def test_counts_and_lists(server):
    legacy = server.client(GROUP_SECRET)
    image = legacy.material.add(APP_AGENTID, "image", ("cover.jpg", JPEG, "image/jpeg"))["media_id"]
    news = add_mpnews(legacy, image, "One")
    # wechatpy sends agent_id, which names no app.
    assert raises(legacy.material.get_count, APP_AGENTID).errcode == 41011
    assert raises(legacy.material.batchget, APP_AGENTID, "image").errcode == 41011

    res = legacy.get("material/get_count", params={"agentid": APP_AGENTID})
    assert res == {
        "errcode": 0,
        "errmsg": "ok",
        "total_count": 2,
        "image_count": 1,
        "voice_count": 0,
        "video_count": 0,
        "file_count": 0,
        "mpnews_count": 1,
    }
    res = legacy.post("material/batchget", data={"type": "image", "agentid": APP_AGENTID, "offset": 0, "count": 20})
    assert res["type"] == "image" and res["total_count"] == 1 and res["item_count"] == 1, res
    assert res["itemlist"][0]["media_id"] == image and res["itemlist"][0]["filename"] == "cover.jpg"
    assert res["itemlist"][0]["update_time"].isdigit()
    res = legacy.post("material/batchget", data={"type": "mpnews", "agentid": APP_AGENTID, "offset": 0, "count": 20})
    assert res["itemlist"][0]["media_id"] == news and res["itemlist"][0]["articles"][0]["title"] == "One"


def test_rights_and_dialect(server):
    legacy = server.client(GROUP_SECRET)
    picture = ("cover.jpg", JPEG, "image/jpeg")
    assert raises(legacy.material.add, RESTRICTED_AGENTID, "image", picture).errcode == 60011
    assert raises(legacy.material.add, 999, "image", picture).errcode == 40056
    # WeCom has no permanent material: its tokens are told the API is deprecated.
    wecom = server.client(APP_SECRET)
    assert raises(wecom.material.add, APP_AGENTID, "image", picture).errcode == 48005
    assert raises(wecom.material.get_articles, APP_AGENTID, "2x").errcode == 48005


def test_messages_send_material(server):
    legacy = server.client(GROUP_SECRET)
    image = legacy.material.add(APP_AGENTID, "image", ("cover.jpg", JPEG, "image/jpeg"))["media_id"]
    news = add_mpnews(legacy, image, "Hello")
    res = legacy.message.send(APP_AGENTID, "zhangsan", msg={"msgtype": "mpnews", "mpnews": {"media_id": news}})
    assert res == {"errcode": 0, "errmsg": "ok"}, res
    assert legacy.message.send_image(APP_AGENTID, "zhangsan", image)["errcode"] == 0
    articles = [dict(article("Inline", image), content_source_url="", show_cover_pic=0)]
    assert legacy.message.send_mp_articles(APP_AGENTID, "zhangsan", articles)["errcode"] == 0

    got = server.control("GET", f"/corps/{CORPID}/members/zhangsan/inbox")
    assert [m["msgtype"] for m in got] == ["mpnews", "image", "mpnews"]
    assert got[0]["content"] == {"articles": legacy.material.get_articles(APP_AGENTID, news)["mpnews"]["articles"]}
    assert got[1]["content"] == {"media_id": image}
    e = raises(legacy.message.send, APP_AGENTID, "zhangsan", msg={"msgtype": "mpnews", "mpnews": {"media_id": "2nope"}})
    assert e.errcode == 40007
