"""Apps through wechatpy's client.agent, in both dialects on one corp: WeCom shows home_url and
lists only its own app; the 企业号 shows round_logo_url, type, chat_extension_url, isreportuser
and lists every app its 管理组 may use or manage. What one dialect writes the other reads."""

from support import APP_AGENTID, APP_SECRET, CORPID, GROUP2_SECRET, GROUP_SECRET, RESTRICTED_AGENTID, SYNC_SECRET, assert_wecom_errmsg, raises

WECOM_ONLY = {"home_url"}
LEGACY_ONLY = {"round_logo_url", "type", "chat_extension_url", "isreportuser"}



def test_one_app_two_views(server):
    wecom = server.client(APP_SECRET).agent
    legacy = server.client(GROUP_SECRET).agent
    w = wecom.get(APP_AGENTID)
    assert w["errcode"] == 0 and w["name"] == "Open app"
    assert WECOM_ONLY <= w.keys() and not (LEGACY_ONLY & w.keys()), w
    assert w["allow_partys"] == {"partyid": [1]}
    l = legacy.get(APP_AGENTID)
    assert LEGACY_ONLY <= l.keys() and not (WECOM_ONLY & l.keys()), l
    assert l["type"] == 1

    assert wecom.list() == [{"agentid": APP_AGENTID, "name": "Open app", "square_logo_url": ""}]
    assert legacy.list() == [{"agentid": APP_AGENTID, "name": "Open app", "square_logo_url": "", "round_logo_url": ""}]
    assert server.client(GROUP2_SECRET).agent.list() == [], "group 2 has no app rights"


def test_set_in_one_dialect_read_in_the_other(server):
    wecom = server.client(APP_SECRET).agent
    legacy = server.client(GROUP_SECRET).agent
    # wechatpy always sends isreportuser; WeCom has none and ignores it.
    res = wecom.set(APP_AGENTID, name="通知助手", description="Tells everyone", redirect_domain="app.example.com", is_report_user=True)
    assert res == {"errcode": 0, "errmsg": "ok"}
    l = legacy.get(APP_AGENTID)
    assert (l["name"], l["description"], l["redirect_domain"], l["isreportenter"], l["isreportuser"]) == (
        "通知助手",
        "Tells everyone",
        "app.example.com",
        1,
        0,
    )

    assert legacy.set(APP_AGENTID, report_location_flag=2, is_report_user=True, is_report_enter=False) == {"errcode": 0, "errmsg": "ok"}
    l = legacy.get(APP_AGENTID)
    assert (l["report_location_flag"], l["isreportuser"], l["isreportenter"]) == (2, 1, 0)
    assert wecom.get(APP_AGENTID)["isreportenter"] == 0

    # home_url: any app in WeCom; in the 企业号 only once the app is a homepage app (type 2).
    legacy_client = server.client(GROUP_SECRET)
    e = raises(legacy_client.post, "agent/set", data={"agentid": APP_AGENTID, "home_url": "https://h.example.com"})
    assert (e.errcode, e.errmsg) == (40058, "invalid Request Parameter: home_url is only for homepage apps (type 2)")
    res = legacy_client.post("agent/set", data={"agentid": APP_AGENTID, "type": 2, "home_url": "https://h.example.com", "chat_extension_url": "https://h.example.com/chat"})
    assert res["errcode"] == 0
    assert wecom.get(APP_AGENTID)["home_url"] == "https://h.example.com"
    assert legacy.get(APP_AGENTID)["chat_extension_url"] == "https://h.example.com/chat"


def test_errors(server):
    wecom = server.client(APP_SECRET).agent
    e = raises(wecom.get, RESTRICTED_AGENTID)
    assert e.errcode == 301002
    assert_wecom_errmsg(e.errmsg, "no privilege to access/modify agent", 301002)
    assert raises(wecom.get, 999).errcode == 40056
    assert raises(wecom.set, APP_AGENTID, description="abc").errcode == 45004
    assert raises(wecom.set, APP_AGENTID, name="x" * 33).errcode == 45022
    assert raises(wecom.set, APP_AGENTID, report_location_flag=2).errcode == 40059
    assert raises(wecom.set, APP_AGENTID, redirect_domain="localhost").errcode == 85005
    assert raises(server.client(SYNC_SECRET).agent.list).errcode == 48002
    legacy = server.client(GROUP2_SECRET).agent
    e = raises(legacy.get, APP_AGENTID)
    assert (e.errcode, e.errmsg) == (60011, "no privilege to access/modify contact/party/agent")


def test_attributes_from_the_control_api(server):
    server.control("PATCH", f"/corps/{CORPID}/apps/{APP_AGENTID}", json={"type": 2, "close": True, "home_url": "https://c.example.com"})
    l = server.client(GROUP_SECRET).agent.get(APP_AGENTID)
    assert (l["type"], l["close"]) == (2, 1)
    e = raises(server.client(APP_SECRET).agent.get, APP_AGENTID)
    assert e.errcode == 50003, "a disabled app's secret answers gettoken 50003"
    assert_wecom_errmsg(e.errmsg, "app is disabled", 50003)
    server.control("PATCH", f"/corps/{CORPID}/apps/{APP_AGENTID}", json={"close": False})
    assert server.client(APP_SECRET).agent.get(APP_AGENTID)["home_url"] == "https://c.example.com"
