"""Callbacks received by wechatpy's own receiver side, as an app developer writes it (the
`receiver` fixture, support.Receiver): a small http.server that verifies the URL and decrypts
pushes with wechatpy.enterprise.crypto.WeChatCrypto, reads them with parse_message and answers
member texts with create_reply, whose encrypted reply wecomd opens and delivers to the member's
inbox. The menu's picture and location buttons come out as wechatpy's own event classes."""

import time

from wechatpy.enterprise import events
from wechatpy.messages import UnknownMessage

from support import AES_KEY, APP_AGENTID, APP_SECRET, CORPID, SYNC_SECRET, TOKEN, raises


def test_wechatpy_receiver_verifies_decrypts_and_replies(server, receiver):
    owner = f"app:{APP_AGENTID}"
    saved = server.control("PUT", f"/corps/{CORPID}/callbacks/{owner}", json={"url": receiver.url, "token": TOKEN, "encodingaeskey": AES_KEY})
    assert saved["owner"] == owner
    # With another token wechatpy's signature check fails: the receiver answers 403, refused.
    refused = server.control(
        "PUT", f"/corps/{CORPID}/callbacks/{owner}", expect=(400,), json={"url": receiver.url, "token": "WrongToken", "encodingaeskey": AES_KEY}
    )
    assert refused["errcode"] == 40057 and "HTTP 403" in refused["error"], refused
    server.control("PUT", f"/corps/{CORPID}/callbacks/{owner}", json={"url": receiver.url, "token": TOKEN, "encodingaeskey": AES_KEY})

    client = server.client(APP_SECRET)
    client.menu.create(APP_AGENTID, {"button": [{"type": "click", "name": "Today", "key": "V1001_TODAY"}]})
    server.control("PATCH", f"/corps/{CORPID}/apps/{APP_AGENTID}", json={"isreportenter": True, "report_location_flag": 1})
    member = f"/corps/{CORPID}/members/zhangsan/apps/{APP_AGENTID}"
    for event in (
        {"event": "subscribe"},
        {"event": "enter_agent"},
        {"event": "LOCATION", "latitude": 23.137466, "longitude": 113.352425, "precision": 119.385040},
        {"event": "click", "key": "V1001_TODAY"},
    ):
        assert server.control("POST", member + "/events", json=event)["pushed"] is True
    sent = server.control("POST", member + "/messages", json={"msgtype": "text", "content": "hello"})

    # A change the contacts-sync assistant makes reaches the app, whose range is the whole corp.
    server.client(SYNC_SECRET).user.create("wangwu", "Wang Wu", department=[2], mobile="13800000009")

    pushes = receiver.wait_for(6)
    messages = [m for _, m in pushes]
    kinds = [m.event if m.type == "event" else m.type for m in messages[:5]]
    assert kinds == ["subscribe", "enter_agent", "location", "click", "text"], kinds
    for m in messages[:5]:
        assert (m.source, m.target, m.agent) == ("zhangsan", CORPID, APP_AGENTID)
    assert (messages[2].latitude, messages[2].longitude) == (23.137466, 113.352425)
    assert messages[3].key == "V1001_TODAY"
    assert (messages[4].content, str(messages[4].id)) == ("hello", sent["msgid"])
    xml = pushes[5][0]
    assert "<Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[create_user]]></ChangeType><UserID><![CDATA[wangwu]]></UserID>" in xml, xml

    # create_reply's encrypted answer was opened and landed in zhangsan's inbox, from the app.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        inbox = server.control("GET", f"/corps/{CORPID}/members/zhangsan/inbox")
        if inbox and inbox[-1]["content"].get("content") == "you said: hello":
            break
        time.sleep(0.05)
    assert inbox[-1]["msgtype"] == "text" and inbox[-1]["agentid"] == APP_AGENTID, inbox
    assert inbox[-1]["content"]["content"] == "you said: hello"
    log = server.control("GET", f"/corps/{CORPID}/callbacks/deliveries?owner={owner}")
    text = next(d for d in log if "<MsgType><![CDATA[text]]></MsgType>" in d["xml"])
    assert text["state"] == "delivered" and "you said: hello" in text["attempts"][0]["reply_xml"], text


def test_wechatpy_reads_picture_location_and_miniprogram_buttons(server, receiver):
    owner = f"app:{APP_AGENTID}"
    server.control("PUT", f"/corps/{CORPID}/callbacks/{owner}", json={"url": receiver.url, "token": TOKEN, "encodingaeskey": AES_KEY})
    client = server.client(APP_SECRET)
    menu = {
        "button": [
            {
                "name": "Pics",
                "sub_button": [
                    {"type": "pic_sysphoto", "name": "Camera", "key": "cam"},
                    {"type": "pic_photo_or_album", "name": "Album", "key": "album"},
                    {"type": "pic_weixin", "name": "WeChat", "key": "wx"},
                ],
            },
            {"type": "location_select", "name": "Where", "key": "loc"},
            {"type": "view_miniprogram", "name": "Mini", "appid": "wx0123456789abcdef", "pagepath": "pages/index"},
        ]
    }
    client.menu.create(APP_AGENTID, menu)
    a, b = "1b5f7c23b5bf75682a53e7b6d163e185", "c4564632a4fab91378c39bea6aad6f9e"
    member = f"/corps/{CORPID}/members/zhangsan/apps/{APP_AGENTID}"
    for event in (
        {"event": "pic_sysphoto", "key": "cam", "pic_md5_sums": [a]},
        {"event": "pic_photo_or_album", "key": "album", "pic_md5_sums": [a, b]},
        {"event": "pic_weixin", "key": "wx", "pic_md5_sums": [b]},
        {"event": "location_select", "key": "loc", "location_x": 23.134521, "location_y": 113.358803, "label": "Guangzhou", "poiname": "Canton Tower"},
        {"event": "view_miniprogram", "pagepath": "pages/index"},
    ):
        assert server.control("POST", member + "/events", json=event)["pushed"] is True

    pushes = receiver.wait_for(5)
    messages = [m for _, m in pushes]
    sysphoto, album, weixin, location, mini = messages
    assert isinstance(sysphoto, events.PicSysPhotoEvent) and isinstance(album, events.PicPhotoOrAlbumEvent), messages
    assert isinstance(weixin, events.PicWeChatEvent) and isinstance(location, events.LocationSelectEvent), messages
    for m in messages[:4]:
        assert (m.source, m.target, m.agent) == ("zhangsan", CORPID, APP_AGENTID)
    assert (sysphoto.key, sysphoto.count, sysphoto.pictures) == ("cam", 1, [{"PicMd5Sum": a}])
    assert (album.key, album.count, album.pictures) == ("album", 2, [{"PicMd5Sum": a}, {"PicMd5Sum": b}])
    assert (weixin.key, weixin.count, weixin.pictures) == ("wx", 1, [{"PicMd5Sum": b}])
    assert location.key == "loc"
    assert location.location == ("23.134521", "113.358803")
    assert (location.scale, location.label, location.poiname) == ("15", "Guangzhou", "Canton Tower")
    # wechatpy 1.8.18 has no class for view_miniprogram: parse_message reads it as UnknownMessage.
    assert isinstance(mini, UnknownMessage)
    assert (mini._data["Event"], mini._data["EventKey"], mini._data["AgentID"]) == ("view_miniprogram", "pages/index", str(APP_AGENTID))


def test_wechatpy_updates_the_card_with_each_clicks_response_code(server, receiver):
    """Every template_card_event push carries its own ResponseCode (wechatpy 1.8.18 has no class
    for the event: parse_message reads it as UnknownMessage). The app updates the card once with
    each, through message/update_template_card, which wechatpy has no method for either."""
    server.control("PUT", f"/corps/{CORPID}/callbacks/app:{APP_AGENTID}", json={"url": receiver.url, "token": TOKEN, "encodingaeskey": AES_KEY})
    client = server.client(APP_SECRET)
    card = {"card_type": "button_interaction", "task_id": "lunch", "main_title": {"title": "Lunch?"},
            "button_list": [{"text": "Noodles", "key": "noodles"}, {"text": "Rice", "key": "rice"}]}
    sent = client.message.send(APP_AGENTID, "zhangsan|lisi", msg={"msgtype": "template_card", "template_card": card})
    for userid, key in (("zhangsan", "noodles"), ("lisi", "rice")):
        click = {"event": "template_card_event", "msgid": sent["msgid"], "key": key}
        assert server.control("POST", f"/corps/{CORPID}/members/{userid}/apps/{APP_AGENTID}/events", json=click)["pushed"] is True
    clicks = [m for _, m in receiver.wait_for(2)]
    assert all(isinstance(m, UnknownMessage) for m in clicks), clicks
    assert [(m.source, m._data["Event"], m._data["EventKey"]) for m in clicks] == [
        ("zhangsan", "template_card_event", "noodles"),
        ("lisi", "template_card_event", "rice"),
    ]
    codes = [m._data["ResponseCode"] for m in clicks]
    assert len({*codes, sent["response_code"]}) == 3, "a code of its own per push"

    def update(code, userid, label):
        data = {"userids": [userid], "agentid": APP_AGENTID, "response_code": code, "button": {"replace_name": label}}
        return client.post("message/update_template_card", data=data)

    for m, code in zip(clicks, codes):
        label = "You chose " + m._data["EventKey"]
        assert update(code, m.source, label) == {"errcode": 0, "errmsg": "ok", "invaliduser": []}
        assert raises(update, code, m.source, label).errcode == 60140, "each code serves once"
        card_update = next(i for i in server.control("GET", f"/corps/{CORPID}/members/{m.source}/inbox") if i["msgid"] == sent["msgid"])["card_update"]
        assert card_update == {"button": {"replace_name": label}}

    # A click's code lasts 72 hours after its push, by wecomd's clock (which runs on meanwhile:
    # a minute's margin either side).
    for userid in ("zhangsan", "lisi"):
        click = {"event": "template_card_event", "msgid": sent["msgid"], "key": "rice"}
        server.control("POST", f"/corps/{CORPID}/members/{userid}/apps/{APP_AGENTID}/events", json=click)
    in_time, late = [m._data["ResponseCode"] for _, m in receiver.wait_for(4)[2:]]
    server.advance(72 * 3600 - 60)
    client = server.client(APP_SECRET)
    assert update(in_time, "zhangsan", "in time")["errcode"] == 0
    server.advance(61)
    assert raises(update, late, "lisi", "too late").errcode == 60140
