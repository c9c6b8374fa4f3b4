"""App group chats through wechatpy's client.appchat: WeCom only, owned by the creating app."""

from support import APP_SECRET, CORPID, GROUP_SECRET, SYNC_SECRET, assert_wecom_errmsg, raises


def test_appchat_lifecycle(server):
    appchat = server.client(APP_SECRET).appchat
    res = appchat.create(chat_id="team1", name="Team", owner="lisi", user_list=["zhangsan", "lisi"])
    assert res == {"errcode": 0, "errmsg": "ok", "chatid": "team1"}
    info = appchat.get("team1")
    assert info == {"chatid": "team1", "name": "Team", "owner": "lisi", "userlist": ["zhangsan", "lisi"], "chat_type": 0}
    assert appchat.update("team1", name="Team 2", owner="zhangsan") == {"errcode": 0, "errmsg": "ok"}
    assert appchat.get("team1")["owner"] == "zhangsan"
    assert appchat.send_text("team1", "hello team") == {"errcode": 0, "errmsg": "ok"}
    assert appchat.send("team1", "markdown", content="**hi**")["errcode"] == 0
    log = server.control("GET", f"/corps/{CORPID}/appchats/team1/messages")
    assert [m["msgtype"] for m in log] == ["text", "markdown"]
    assert server.control("GET", f"/corps/{CORPID}/members/lisi/inbox")[0]["content"] == {"content": "hello team"}


def test_appchat_errors(server):
    appchat = server.client(APP_SECRET).appchat
    e = raises(appchat.create, user_list=["zhangsan"])
    assert e.errcode == 86006
    assert_wecom_errmsg(e.errmsg, "invalid chat member size", 86006)
    assert raises(appchat.create, user_list=["zhangsan", "ghost"]).errcode == 86007
    assert raises(appchat.create, chat_id="no-dash", user_list=["zhangsan", "lisi"]).errcode == 86001
    chatid = appchat.create(user_list=["zhangsan", "lisi"])["chatid"]
    assert raises(appchat.create, chat_id=chatid, user_list=["zhangsan", "lisi"]).errcode == 86215
    assert raises(appchat.get, "missing").errcode == 86003
    assert raises(appchat.update, chatid, del_user_list=["lisi"]).errcode == 86006
    assert raises(appchat.send_text, chatid, "").errcode == 44004
    assert raises(server.client(SYNC_SECRET).appchat.get, chatid).errcode == 48002
    e = raises(server.client(GROUP_SECRET).appchat.get, chatid)
    assert e.errcode == 48002 and e.errmsg == "api forbidden", "a legacy token is refused"


def test_a_thousand_creates_a_day(server):
    # A minute into a day in China (UTC+8), so that the day does not turn during the test.
    now = server.now()
    server.advance(86400 - (now + 8 * 3600) % 86400 + 60)
    appchat = server.client(APP_SECRET).appchat
    for i in range(1000):
        appchat.create(chat_id=f"c{i}", user_list=["zhangsan", "lisi"])
    e = raises(appchat.create, user_list=["zhangsan", "lisi"])
    assert e.errcode == 45009
    assert_wecom_errmsg(e.errmsg, "api freq out of limit", 45009)
    server.advance(86400)
    appchat = server.client(APP_SECRET).appchat
    assert appchat.create(chat_id="tomorrow", user_list=["zhangsan", "lisi"])["chatid"] == "tomorrow"
