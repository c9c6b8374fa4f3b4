"""JS-SDK tickets through wechatpy: the corp's jsapi ticket (both dialects), the app's
agent_config ticket, each cached by wechatpy for the expires_in wecomd answers; the 企业号 group
ticket and the card ticket through the raw client."""

from support import APP_SECRET, GROUP_SECRET, raises


def test_jsapi_and_agent_tickets(server):
    client = server.client(APP_SECRET)
    corp = client.jsapi.get_ticket()
    assert corp["errcode"] == 0 and corp["expires_in"] == 7200 and len(corp["ticket"]) == 86
    assert client.jsapi.get_jsapi_ticket() == corp["ticket"]
    agent = client.jsapi.get_agent_ticket()
    assert agent["expires_in"] == 7200 and agent["ticket"] != corp["ticket"]
    assert client.jsapi.get_agent_jsapi_ticket() == agent["ticket"]
    # The same corp ticket for the 企业号 dialect, with errcode/errmsg there too.
    legacy = server.client(GROUP_SECRET)
    assert legacy.jsapi.get_ticket() == {"errcode": 0, "errmsg": "ok", "ticket": corp["ticket"], "expires_in": 7200}
    # The signature wechatpy computes over it is the reference's recipe (sha1 of the sorted pairs).
    sig = client.jsapi.get_jsapi_signature("Wm3WZYTPz0wzccnW", corp["ticket"], 1414587457, "http://mp.weixin.qq.com?params=value")
    assert len(sig) == 40
    # 企业号 apps had no agentConfig.
    assert raises(legacy.jsapi.get_agent_ticket).errcode == 91040


def test_group_and_card_tickets(server):
    legacy = server.client(GROUP_SECRET)
    group = legacy.get("ticket/get", params={"type": "contact"})
    assert group["group_id"] == "1" and group["expires_in"] == 7200
    card = legacy.get("ticket/get", params={"type": "wx_card"})
    wecom = server.client(APP_SECRET)
    assert wecom.get("ticket/get", params={"type": "wx_card"})["ticket"] == card["ticket"]
    assert raises(wecom.get, "ticket/get", params={"type": "contact"}).errcode == 91040
