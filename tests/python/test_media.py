"""Temporary media through wechatpy's client.media (upload, upload_img, get_url) in both dialects
on one corp, and the media ids messages send. wechatpy builds download URLs on the real host
(https://qyapi.weixin.qq.com), so the tests swap in wecomd's address, as a user of the emulator
has to; the path and query it builds are what wecomd serves."""

from support import APP_AGENTID, APP_SECRET, GROUP_SECRET, JPEG, assert_wecom_errmsg, local, raises

AMR = b"#!AMR\n" + (b"\x3c" + b"\x55" * 31) * 50  # one second


def test_upload_and_download(server):
    client = server.client(APP_SECRET)
    res = client.media.upload("image", ("photo.jpg", JPEG, "image/jpeg"))
    assert res["errcode"] == 0 and res["errmsg"] == "" and res["type"] == "image", res
    assert res["created_at"].isdigit(), "created_at is a digit string"
    media_id = res["media_id"]

    r = server.http.get(local(server, client.media.get_url(media_id)), timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["Content-disposition"] == f'attachment; filename="{media_id}.jpg"'
    assert r.content == JPEG

    # A file keeps its name: what a file message shows and what the download is called.
    res = client.media.upload("file", ("月报.txt", b"monthly report", "text/plain"))
    r = server.http.get(local(server, client.media.get_url(res["media_id"])), timeout=30)
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-disposition"] == "attachment; filename*=utf-8''%E6%9C%88%E6%8A%A5.txt"
    assert r.content == b"monthly report"

    # Errors: JSON with application/json, as WxJava and wechatpy users detect them.
    r = server.http.get(local(server, client.media.get_url("1nope")), timeout=30)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["errcode"] == 40007
    assert_wecom_errmsg(r.json()["errmsg"], "invalid media_id", 40007)


def test_legacy_upload_is_bare(server):
    legacy = server.client(GROUP_SECRET)
    res = legacy.media.upload("voice", ("hello.amr", AMR, "audio/amr"))
    assert set(res) == {"type", "media_id", "created_at"}, res
    assert isinstance(res["created_at"], int)
    # The same corp's WeCom app reads it.
    wecom = server.client(APP_SECRET)
    r = server.http.get(local(server, wecom.media.get_jssdk_url(res["media_id"])), timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "voice/amr" and r.content == AMR
    res = legacy.media.upload_img(("logo.jpg", JPEG, "image/jpeg"))
    assert set(res) == {"url"}, res


def test_upload_img_is_permanent(server):
    client = server.client(APP_SECRET)
    res = client.media.upload_img(("inline.jpg", JPEG, "image/jpeg"))
    assert res["errcode"] == 0 and res["errmsg"] == "", res
    server.advance(10 * 86400)
    r = server.http.get(res["url"], timeout=30)
    assert r.status_code == 200 and r.content == JPEG
    assert raises(client.media.upload_img, ("notes.txt", b"not a picture", "text/plain")).errcode == 40004


def test_bad_uploads(server):
    media = server.client(APP_SECRET).media
    assert raises(media.upload, "thumb", ("a.jpg", JPEG, "image/jpeg")).errcode == 40005
    assert raises(media.upload, "image", ("a.gif", b"GIF89a" + b"\0" * 20, "image/gif")).errcode == 40004
    assert raises(media.upload, "voice", ("a.mp3", b"ID3\x03" + b"\0" * 20, "audio/mpeg")).errcode == 301017
    assert raises(media.upload, "file", ("a.txt", b"abc", "text/plain")).errcode == 40006
    assert raises(media.upload, "file", ("a.txt", b"", "text/plain")).errcode == 44001
    e = raises(media.upload, "file", ("big.bin", b"x" * (20 * 1024 * 1024 + 1), "application/octet-stream"))
    assert e.errcode == 45001
    assert_wecom_errmsg(e.errmsg, "media size out of limit", 45001)


def test_messages_send_uploaded_media_for_three_days(server):
    client = server.client(APP_SECRET)
    media_id = client.media.upload("image", ("photo.jpg", JPEG, "image/jpeg"))["media_id"]
    assert client.message.send_image(APP_AGENTID, "zhangsan", media_id)["errcode"] == 0
    assert raises(client.message.send_image, APP_AGENTID, "zhangsan", "1never-uploaded").errcode == 40007
    server.advance(3 * 86400)
    client = server.client(APP_SECRET)
    assert raises(client.message.send_image, APP_AGENTID, "zhangsan", media_id).errcode == 40007
    r = server.http.get(local(server, client.media.get_url(media_id)), timeout=30)
    assert r.json()["errcode"] == 40007
