"""The legacy chat service (企业会话服务) through wechatpy's client.chat: the dedicated chat secret
(turned on through the control API) mints 企业号 tokens for chat/* only; members' messages are
recorded as the packages the platform pushed to the chat callback."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_SECRET, CORPID, GROUP_SECRET


def raises(call, *args, **kwargs):
    with pytest.raises(WeChatClientException) as e:
        call(*args, **kwargs)
    return e.value


def chat_client(server):
    secret = server.control("POST", f"/corps/{CORPID}/chat")["secret"]
    return server.client(secret).chat


def add_member(server, userid):
    server.client(GROUP_SECRET).user.create(userid, userid.title(), department=[1], mobile="1380000" + str(len(userid)).zfill(4))


def test_chat_lifecycle(server):
    add_member(server, "wangwu")
    chat = chat_client(server)
    assert chat.create("team1", "项目组", "zhangsan", ["zhangsan", "lisi", "wangwu"]) == {"errcode": 0, "errmsg": "ok"}
    assert chat.get("team1") == {"chatid": "team1", "name": "项目组", "owner": "zhangsan", "userlist": ["zhangsan", "lisi", "wangwu"]}

    add_member(server, "zhaoliu")
    assert chat.update("team1", "lisi", name="新名", add_user_list=["zhaoliu"])["errcode"] == 0
    assert chat.update("team1", "zhangsan", owner="lisi", del_user_list=["wangwu"])["errcode"] == 0
    assert chat.get("team1") == {"chatid": "team1", "name": "新名", "owner": "lisi", "userlist": ["zhangsan", "lisi", "zhaoliu"]}

    assert chat.send_group_text("zhangsan", "team1", "hello")["errcode"] == 0
    assert chat.send_single_text("zhangsan", "lisi", "psst")["errcode"] == 0
    # Media are the corp's: uploaded with the 管理组's token, sent through the chat service.
    media = server.client(GROUP_SECRET).media
    image = media.upload("image", ("a.jpg", b"\xff\xd8\xff\xe0 a picture", "image/jpeg"))["media_id"]
    file = media.upload("file", ("a.txt", b"a file", "text/plain"))["media_id"]
    assert raises(chat.send_group_image, "lisi", "team1", "media-1").errcode == 40007
    assert chat.send_group_image("lisi", "team1", image)["errcode"] == 0
    assert chat.send_group_file("lisi", "team1", file)["errcode"] == 0
    assert chat.clear_notify("lisi", "group", "team1")["errcode"] == 0
    res = chat.set_mute([{"userid": "lisi", "status": 1}, {"userid": "ghost", "status": 1}])
    assert res == {"errcode": 0, "errmsg": "ok", "invaliduser": ["ghost"]}

    assert chat.quit("team1", "lisi")["errcode"] == 0
    assert chat.get("team1")["owner"] == "zhangsan", "the owner's leaving hands the chat on"

    said = server.control("GET", f"/corps/{CORPID}/chats/team1/messages")
    assert [(m["sender"], m["msgtype"]) for m in said] == [("zhangsan", "text"), ("lisi", "image"), ("lisi", "file")]
    assert server.control("GET", f"/corps/{CORPID}/single_chats/lisi/messages")[0]["payload"] == {"content": "psst"}
    assert server.control("GET", f"/corps/{CORPID}/chats")["muted"] == ["lisi"]


def test_chat_errors(server):
    chat = chat_client(server)
    e = raises(chat.create, "team1", "Team", "zhangsan", ["zhangsan", "lisi"])
    assert (e.errcode, e.errmsg) == (86006, "invalid chat member size"), "at least 3; 企业号 errmsg is bare"
    assert raises(chat.create, "team-1", "Team", "zhangsan", ["zhangsan", "lisi", "x"]).errcode == 86001
    assert raises(chat.create, "team1", "Team", "ghost", ["zhangsan", "lisi", "x"]).errcode == 86207
    assert raises(chat.create, "team1", "Team", "zhangsan", ["zhangsan", "lisi", "ghost"]).errcode == 86007
    assert raises(chat.get, "nochat").errcode == 86003
    add_member(server, "wangwu")
    chat.create("team1", "Team", "zhangsan", ["zhangsan", "lisi", "wangwu"])
    assert raises(chat.create, "team1", "Team", "zhangsan", ["zhangsan", "lisi", "wangwu"]).errcode == 86215
    assert raises(chat.send_group_text, "ghost", "team1", "x").errcode == 40003
    chat.quit("team1", "wangwu")
    assert raises(chat.send_group_text, "wangwu", "team1", "x").errcode == 86217
    assert raises(chat.send_text, "lisi", "room", "team1", "x").errcode == 86220
    assert raises(chat.update, "team1", "lisi", del_user_list=["zhangsan"]).errcode == 86101
    assert raises(chat.clear_notify, "lisi", "group", "nochat").errcode == 86003


def test_only_the_chat_secret_calls_chat(server):
    chat = chat_client(server)
    secret = server.control("GET", f"/corps/{CORPID}")["chat"]["secret"]
    users = server.client(secret).user
    e = raises(users.get, "zhangsan")
    assert (e.errcode, e.errmsg) == (48002, "api forbidden")
    assert raises(server.client(GROUP_SECRET).chat.get, "team1").errcode == 48002
    e = raises(server.client(APP_SECRET).chat.create, "team1", "Team", "zhangsan", ["zhangsan", "lisi", "x"])
    assert e.errcode == 48005 and e.errmsg.startswith("api deprecated, hint: [")
    assert raises(chat.get, "team1").errcode == 86003, "the chat token itself is fine"


def test_member_messages_are_packages(server):
    add_member(server, "wangwu")
    chat_client(server).create("team1", "Team", "zhangsan", ["zhangsan", "lisi", "wangwu"])
    said = server.control("POST", f"/corps/{CORPID}/chats/team1/messages", json={"sender": "wangwu", "content": "收到"})
    packages = chat_packages(server)
    assert len(packages) == 2, "create_chat, then the text"
    p = packages[1]["package"]
    assert (p["agent_type"], p["package_id"], p["item_count"]) == ("chat", said["package_id"], 1)
    item = dict(p["items"][0]["elements"])
    assert (item["FromUserName"], item["MsgType"], item["Content"], item["MsgId"]) == ("wangwu", "text", "收到", said["msgid"])
    assert p["items"][0]["receiver"] == {"type": "group", "id": "team1"}
    server.control("POST", f"/corps/{CORPID}/chats/team1/messages", expect=(400,), json={"sender": "ghost", "content": "x"})


def chat_packages(server):
    return [e for e in server.control("GET", f"/corps/{CORPID}/events") if e["event"] == "chat"]


def test_chat_changes_are_packages(server):
    add_member(server, "wangwu")
    add_member(server, "zhaoliu")
    chat = chat_client(server)
    chat.create("team1", "Team", "ZhangSan", ["zhangsan", "lisi", "wangwu"])
    chat.update("team1", "zhangsan", name="新名", owner="lisi", add_user_list=["zhaoliu"], del_user_list=["wangwu"])
    chat.quit("team1", "lisi")
    raises(chat.quit, "team1", "lisi")
    packages = chat_packages(server)
    assert [p["origin"] for p in packages] == ["chat"] * 3, "refusals record nothing"
    items = [p["package"]["items"][0] for p in packages]
    events = [dict(i["elements"]) for i in items]
    assert [(e["FromUserName"], e["MsgType"], e["Event"]) for e in events] == [
        ("zhangsan", "event", "create_chat"),
        ("zhangsan", "event", "update_chat"),
        ("lisi", "event", "quit_chat"),
    ]
    assert dict(items[0]["chat_info"]) == {"ChatId": "team1", "Name": "Team", "Owner": "zhangsan", "UserList": "zhangsan|lisi|wangwu"}
    update = events[1]
    assert (update["Name"], update["Owner"], update["AddUserList"], update["DelUserList"], update["ChatId"]) == ("新名", "lisi", "zhaoliu", "wangwu", "team1")
    assert events[2]["ChatId"] == "team1"
