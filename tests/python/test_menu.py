"""Menus through wechatpy's client.menu, in both dialects on one app: the 企业号's menu/get answers
without errcode (`{"menu":{"button":…}}`), WeCom's with it (`{"errcode":0,…,"button":…}`)."""

from support import APP_AGENTID, APP_SECRET, GROUP2_SECRET, GROUP_SECRET, RESTRICTED_AGENTID, assert_wecom_errmsg, raises

MENU = {
    "button": [
        {"type": "click", "name": "今日", "key": "V1001_TODAY"},
        {
            "name": "更多",
            "sub_button": [
                {"type": "view", "name": "搜索", "url": "https://www.example.com/"},
                {"type": "scancode_push", "name": "扫码", "key": "SCAN"},
                {"type": "location_select", "name": "位置", "key": "LOC"},
            ],
        },
    ]
}



def test_menu_lifecycle_in_both_dialects(server):
    wecom = server.client(APP_SECRET).menu
    legacy = server.client(GROUP_SECRET).menu
    e = raises(wecom.get, APP_AGENTID)
    assert e.errcode == 46003
    assert_wecom_errmsg(e.errmsg, "menu no exist", 46003)

    assert wecom.create(APP_AGENTID, MENU) == {"errcode": 0, "errmsg": "ok"}
    assert wecom.get(APP_AGENTID) == {"errcode": 0, "errmsg": "ok", "button": MENU["button"]}
    assert legacy.get(APP_AGENTID) == {"menu": MENU}, "no errcode in the 企业号's answer"

    smaller = {"button": [{"type": "pic_weixin", "name": "发图", "key": "PIC"}]}
    assert legacy.update(APP_AGENTID, smaller) == {"errcode": 0, "errmsg": "ok"}
    assert wecom.get(APP_AGENTID)["button"] == smaller["button"]
    assert wecom.delete(APP_AGENTID) == {"errcode": 0, "errmsg": "ok"}
    assert raises(legacy.get, APP_AGENTID).errcode == 46003


def test_menu_errors(server):
    wecom = server.client(APP_SECRET).menu
    assert raises(wecom.create, APP_AGENTID, {"button": []}).errcode == 40016
    too_many = {"button": [{"name": "M", "sub_button": [{"type": "click", "name": str(i), "key": "K"} for i in range(6)]}]}
    assert raises(wecom.create, APP_AGENTID, too_many).errcode == 40023
    assert raises(wecom.create, APP_AGENTID, {"button": [{"type": "view", "name": "x", "url": "example.com"}]}).errcode == 40055
    assert raises(wecom.create, RESTRICTED_AGENTID, MENU).errcode == 301002
    e = raises(server.client(GROUP_SECRET).menu.create, APP_AGENTID, {"button": [{"type": "click", "name": "一二三四五六", "key": "K"}]})
    assert (e.errcode, e.errmsg) == (40018, "invalid button name size")
    assert raises(server.client(GROUP2_SECRET).menu.get, APP_AGENTID).errcode == 60011
