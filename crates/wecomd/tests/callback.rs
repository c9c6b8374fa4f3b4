//! Callbacks over HTTP: URL verification when a receiver is saved, pushes of every kind of event to
//! a receiver written here with wecom-crypto (as an app's developer would), retries and order,
//! passive replies into the inbox, chat packages acked by PackageId, kill -9 mid-delivery, and
//! two instances on one PostgreSQL delivering each event once.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn verification_refuses_bad_receivers(db: &Db) {
    let s = Server::start(db, &[]).await;
    let r = Receiver::start().await;
    let path = format!("/corps/{CORPID}/callbacks/app:1000002");
    let settings = |url: &str| json!({ "url": url, "token": TOKEN, "encodingaeskey": AES_KEY });

    // Nothing listens there.
    let (st, v) = put(&s, &path, settings("http://127.0.0.1:9/cb")).await;
    assert_eq!((st, v["errcode"].clone()), (400, json!(40057)), "{v}");
    assert!(v["error"].as_str().unwrap().starts_with("URL verification failed: request failed"), "{v}");
    // Answers, but not the echo.
    r.set(Mode::WrongEcho);
    let (st, v) = put(&s, &path, settings(&r.url)).await;
    assert_eq!((st, v["errcode"].clone()), (400, json!(40057)), "{v}");
    assert!(v["error"].as_str().unwrap().contains("\"not the echo\""), "{v}");
    // Too slow: the platform waits 1 s.
    r.set(Mode::Slow(1500));
    let (st, v) = put(&s, &path, settings(&r.url)).await;
    assert!(v["error"].as_str().unwrap().contains("within 1 s"), "{st} {v}");
    r.set(Mode::Down);
    let (_, v) = put(&s, &path, settings(&r.url)).await;
    assert!(v["error"].as_str().unwrap().contains("HTTP 503"), "{v}");
    // The console's own checks come first.
    let (st, v) = put(&s, &path, json!({ "url": r.url, "token": "bad-token", "encodingaeskey": AES_KEY })).await;
    assert_eq!((st, v.get("errcode")), (400, None), "{v}");
    let (st, _) = put(&s, &path, json!({ "url": r.url, "token": TOKEN, "encodingaeskey": "short" })).await;
    assert_eq!(st, 400);
    let (st, _) = put(&s, &format!("/corps/{CORPID}/callbacks/group:1"), settings(&r.url)).await;
    assert_eq!(st, 404);
    let (st, _) = put(&s, &format!("/corps/{CORPID}/callbacks/app:4242"), settings(&r.url)).await;
    assert_eq!(st, 404, "no such app");
    // A receiver that echoes (the echostr's `+` `/` `=` arrive intact) is saved.
    r.set(Mode::Up);
    let (st, v) = put(&s, &path, settings(&r.url)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["owner"].clone(), v["url"].clone()), (json!("app:1000002"), json!(r.url)));
    let (_, list) = s.get(&format!("/corps/{CORPID}/callbacks")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(r.inner.lock().unwrap().rejected, 0);
    let (st, _) = s.control(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(st, 204);
    let (st, _) = s.get(&path).await;
    assert_eq!(st, 404);
}

async fn change_contact_goes_to_sync_and_covering_apps(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (sync, all, rd) = (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    configure(&s, "contact_sync", &sync).await;
    configure(&s, "app:1000002", &all).await;
    configure(&s, "app:1000003", &rd).await;

    let token = s.token(CORPID, SYNC_SECRET).await;
    let v = s
        .api_post(
            &format!("user/create?access_token={token}"),
            json!({ "userid": "zhaoliu", "name": "Zhao Liu", "department": [3], "mobile": "13800000009" }).to_string(),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let v = s
        .api_post(
            &format!("user/create?access_token={token}"),
            json!({ "userid": "sunqi", "name": "Sun Qi", "department": [2], "mobile": "13800000010" }).to_string(),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    // A change made through the control API is nobody's own: the assistant gets it too.
    let (st, v) =
        s.post(&format!("/corps/{CORPID}/members/join"), json!({ "name": "Joiner", "department": [2], "mobile": "13800000011" })).await;
    assert_eq!(st, 201, "{v}");

    let got = all.wait_for(3, 10).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0].contains(
            "<Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[create_user]]></ChangeType><UserID><![CDATA[zhaoliu]]></UserID>"
        ),
        "{}",
        got[0]
    );
    assert!(got[0].starts_with(&format!("<xml><ToUserName><![CDATA[{CORPID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>")));
    assert!(got[0].ends_with("<AgentID>1000002</AgentID></xml>"), "{}", got[0]);
    assert!(got[1].contains("<UserID><![CDATA[sunqi]]></UserID>"));
    // 1000003 sees R&D only: Zhao Liu (Sales) is none of its business.
    let got = rd.wait_for(2, 10).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].contains("<UserID><![CDATA[sunqi]]></UserID>"), "{}", got[0]);
    // The assistant's own writes are not echoed back to it.
    let got = sync.wait_for(1, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sync.pushes().len(), 1, "{got:?}");
    assert!(got[0].contains("<Name><![CDATA[Joiner]]></Name>") && !got[0].contains("<AgentID>"), "{}", got[0]);

    let log = settled(&s, "app:1000002", 3, 10).await;
    assert_eq!(log.len(), 3);
    for d in &log {
        assert_eq!(d["state"], "delivered", "{d}");
        let a = &d["attempts"][0];
        assert_eq!((a["attempt"].clone(), a["status"].clone(), a["error"].clone()), (json!(1), json!(200), json!("")), "{d}");
        assert!(a["latency_ms"].as_i64().unwrap() >= 0);
        assert!(d["xml"].as_str().unwrap().contains("create_user"));
        assert_eq!(d["id"], format!("{CORPID}/{}/app:1000002", d["seq"]));
    }
}

async fn member_actions_reach_the_app_and_replies_the_inbox(db: &Db) {
    let s = Server::start(db, &[]).await;
    let r = Receiver::start().await;
    configure(&s, "app:1000002", &r).await;
    r.inner.lock().unwrap().reply = true;
    let token = s.token(CORPID, APP_SECRET).await;
    let menu = json!({ "button": [{ "type": "click", "name": "Today", "key": "V1001_TODAY" },
                                  { "name": "More", "sub_button": [{ "type": "view", "name": "Site", "url": "https://example.com/" },
                                                                   { "type": "scancode_push", "name": "Scan", "key": "scan1" }] }] });
    let v = s.api_post(&format!("menu/create?access_token={token}&agentid=1000002"), menu.to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let ev = |body: Value| {
        let s = &s;
        async move { s.post(&format!("/corps/{CORPID}/members/zhangsan/apps/1000002/events"), body).await }
    };

    // Without isreportenter / report_location_flag nothing is pushed.
    let (st, v) = ev(json!({ "event": "enter_agent" })).await;
    assert_eq!((st, v["pushed"].clone()), (200, json!(false)), "{v}");
    let (st, v) = ev(json!({ "event": "LOCATION", "latitude": 23.1, "longitude": 113.3, "precision": 65.0 })).await;
    assert_eq!((st, v["pushed"].clone()), (200, json!(false)), "{v}");
    let (st, v) = s
        .control(
            reqwest::Method::PATCH,
            &format!("/corps/{CORPID}/apps/1000002"),
            Some(json!({ "isreportenter": true, "report_location_flag": 1 })),
        )
        .await;
    assert_eq!(st, 200, "{v}");

    for body in [
        json!({ "event": "subscribe" }),
        json!({ "event": "enter_agent" }),
        json!({ "event": "LOCATION", "latitude": 23.1, "longitude": 113.3, "precision": 65.0 }),
        json!({ "event": "click", "key": "V1001_TODAY" }),
        json!({ "event": "view", "url": "https://example.com/" }),
        json!({ "event": "scancode_push", "key": "scan1", "scan_result": "hello" }),
        json!({ "event": "unsubscribe" }),
    ] {
        let (st, v) = ev(body.clone()).await;
        assert_eq!((st, v["pushed"].clone()), (201, json!(true)), "{body} {v}");
    }
    // A key the menu lacks, a member outside the range, an unknown member.
    let (st, _) = ev(json!({ "event": "click", "key": "nope" })).await;
    assert_eq!(st, 400);
    let (st, _) = s.post(&format!("/corps/{CORPID}/members/wangwu/apps/1000003/events"), json!({ "event": "subscribe" })).await;
    assert_eq!(st, 403);
    let (st, _) = s.post(&format!("/corps/{CORPID}/members/nobody/apps/1000002/events"), json!({ "event": "subscribe" })).await;
    assert_eq!(st, 404);

    let msg = |body: Value| {
        let s = &s;
        async move { s.post(&format!("/corps/{CORPID}/members/zhangsan/apps/1000002/messages"), body).await }
    };
    let mut msgids = vec![];
    for body in [
        json!({ "msgtype": "image", "pic_url": "https://example.com/a.png" }),
        json!({ "msgtype": "voice" }),
        json!({ "msgtype": "video" }),
        json!({ "msgtype": "location", "location_x": 23.13, "location_y": 113.27, "label": "Guangzhou" }),
        json!({ "msgtype": "link", "title": "T", "url": "https://example.com/l" }),
        json!({ "msgtype": "text", "content": "hello app" }),
    ] {
        let (st, v) = msg(body.clone()).await;
        assert_eq!(st, 201, "{body} {v}");
        msgids.push(v["msgid"].as_str().unwrap().to_string());
    }

    let got = r.wait_for(13, 15).await;
    let kinds: Vec<String> = got.iter().map(|x| element(x, "Event").or_else(|| element(x, "MsgType")).unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "subscribe",
            "enter_agent",
            "LOCATION",
            "click",
            "view",
            "scancode_push",
            "unsubscribe",
            "image",
            "voice",
            "video",
            "location",
            "link",
            "text"
        ],
        "in order"
    );
    assert!(got[2].contains("<Latitude>23.1</Latitude><Longitude>113.3</Longitude><Precision>65</Precision>"), "{}", got[2]);
    assert!(got[3].contains("<EventKey><![CDATA[V1001_TODAY]]></EventKey><AgentID>1000002</AgentID>"), "{}", got[3]);
    assert!(
        got[5].contains("<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[hello]]></ScanResult></ScanCodeInfo>")
    );
    assert!(got[10]
        .contains("<Location_X>23.13</Location_X><Location_Y>113.27</Location_Y><Scale>15</Scale><Label><![CDATA[Guangzhou]]></Label>"));
    assert_eq!(element(&got[12], "MsgId").as_deref(), Some(msgids[5].as_str()));
    assert!(got.iter().all(|x| element(x, "FromUserName").as_deref() == Some("zhangsan")));

    // The passive reply to the text is in zhangsan's inbox, from the app.
    let log = settled(&s, "app:1000002", 13, 10).await;
    let last = log.last().unwrap();
    assert_eq!(last["state"], "delivered");
    assert!(last["attempts"][0]["reply_xml"].as_str().unwrap().contains("you said: hello app"), "{last}");
    let (_, inbox) = s.get(&format!("/corps/{CORPID}/members/zhangsan/inbox")).await;
    let inbox = inbox.as_array().unwrap();
    let reply = inbox.last().unwrap_or_else(|| panic!("empty inbox"));
    assert_eq!(
        (reply["msgtype"].clone(), reply["content"]["content"].clone(), reply["agentid"].clone()),
        (json!("text"), json!("you said: hello app"), json!(1000002)),
        "{reply}"
    );
}

/// A server whose app 1000002 pushes to `r` and has sent `card` to `touser`; with the message's
/// msgid and the response_code message/send answered.
async fn card_sent(db: &Db, r: &Receiver, touser: &str, card: Value) -> (Server, String, String) {
    let s = Server::start(db, &[]).await;
    configure(&s, "app:1000002", r).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let v = s
        .api_post(
            &format!("message/send?access_token={token}"),
            json!({ "touser": touser, "msgtype": "template_card", "agentid": 1000002, "template_card": card }).to_string(),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    (s, v["msgid"].as_str().unwrap().to_string(), v["response_code"].as_str().unwrap().to_string())
}

async fn template_card_clicks_are_pushed(db: &Db) {
    let r = Receiver::start().await;
    let card = json!({ "card_type": "button_interaction", "main_title": { "title": "Approve?" }, "task_id": "task_1",
                       "button_list": [{ "text": "Yes", "key": "yes" }, { "text": "No", "key": "no" }] });
    let (s, msgid, code) = card_sent(db, &r, "zhangsan", card).await;
    let path = |u: &str| format!("/corps/{CORPID}/members/{u}/apps/1000002/events");
    let (st, v) = s.post(&path("zhangsan"), json!({ "event": "template_card_event", "msgid": msgid, "key": "maybe" })).await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = s.post(&path("lisi"), json!({ "event": "template_card_event", "msgid": msgid, "key": "yes" })).await;
    assert_eq!(st, 400, "lisi did not receive it: {v}");
    let (st, v) = s.post(&path("zhangsan"), json!({ "event": "template_card_event", "msgid": msgid, "key": "yes" })).await;
    assert_eq!(st, 201, "{v}");
    // The push carries a code of its own, which the control API's answer shows too.
    let issued = v["response_code"].as_str().unwrap();
    assert_ne!(issued, code, "a click issues a new response_code");
    let got = r.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains(&format!("<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[yes]]></EventKey><TaskId><![CDATA[task_1]]></TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[{issued}]]></ResponseCode>")),
        "{}",
        got[0]
    );
}

/// Each click's push carries a new response_code, tied to the card: the app updates the card once
/// with each (and once with message/send's), for whom it names, within 72 hours.
async fn card_clicks_issue_their_own_response_codes(db: &Db) {
    let r = Receiver::start().await;
    let card = json!({ "card_type": "vote_interaction", "main_title": { "title": "Lunch?" }, "task_id": "task_3",
                       "checkbox": { "question_key": "q1", "option_list": [{ "id": "a", "text": "Noodles" }, { "id": "b", "text": "Rice" }] },
                       "submit_button": { "text": "Vote", "key": "vote" } });
    let (s, msgid, sent_code) = card_sent(db, &r, "zhangsan|lisi|wangwu", card).await;
    let click = |userid: &'static str, option: &'static str| {
        let (s, body) = (
            &s,
            json!({ "event": "template_card_event", "msgid": msgid, "key": "vote", "selected_items": [{ "question_key": "q1", "option_ids": [option] }] }),
        );
        async move {
            let (st, v) = s.post(&format!("/corps/{CORPID}/members/{userid}/apps/1000002/events"), body).await;
            assert_eq!(st, 201, "{v}");
        }
    };
    click("zhangsan", "a").await;
    click("lisi", "b").await;
    let got = r.wait_for(2, 10).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let codes: Vec<String> = got.iter().map(|x| element(x, "ResponseCode").unwrap()).collect();
    assert_eq!(got.iter().map(|x| element(x, "FromUserName").unwrap()).collect::<Vec<_>>(), ["zhangsan", "lisi"]);
    assert!(codes[0] != codes[1] && !codes.contains(&sent_code), "every push its own code: {codes:?} and {sent_code}");

    let update = |code: &str, userid: &str, label: &str| {
        let body = json!({ "userids": [userid], "agentid": 1000002, "response_code": code, "button": { "replace_name": label } });
        let (s, token) = (&s, s.token(CORPID, APP_SECRET));
        async move {
            s.api_post(&format!("message/update_template_card?access_token={}", token.await), body.to_string()).await["errcode"].clone()
        }
    };
    // Each click's code serves once; so does message/send's.
    assert_eq!(update(&codes[0], "zhangsan", "Noodles").await, 0);
    assert_eq!(update(&codes[0], "zhangsan", "again").await, 60140, "spent");
    assert_eq!(update(&codes[1], "lisi", "Rice").await, 0);
    assert_eq!(update(&codes[1], "lisi", "again").await, 60140, "spent");
    assert_eq!(update(&sent_code, "wangwu", "Closed").await, 0, "message/send's code is still unspent");
    assert_eq!(update(&sent_code, "wangwu", "again").await, 60140);
    for (userid, label) in [("zhangsan", "Noodles"), ("lisi", "Rice"), ("wangwu", "Closed")] {
        assert_eq!(inbox_item(&s, userid, &msgid).await["card_update"], json!({ "button": { "replace_name": label } }), "{userid}");
    }

    // A click's code lasts 72 hours by wecomd's clock.
    click("zhangsan", "b").await;
    click("lisi", "a").await;
    let got = r.wait_for(4, 10).await;
    let (late, last) = (element(&got[2], "ResponseCode").unwrap(), element(&got[3], "ResponseCode").unwrap());
    // wecomd's clock runs on meanwhile: a minute's margin either side of the 72 hours.
    s.advance(72 * 3600 - 60).await;
    assert_eq!(update(&last, "lisi", "in time").await, 0, "a minute before its 72 hours end");
    s.advance(61).await;
    assert_eq!(update(&late, "zhangsan", "too late").await, 60140, "expired");
    assert_eq!(inbox_item(&s, "lisi", &msgid).await["card_update"], json!({ "button": { "replace_name": "in time" } }));
}

async fn menu_pictures_locations_and_miniprograms_reach_the_app(db: &Db) {
    let s = Server::start(db, &[]).await;
    let r = Receiver::start().await;
    configure(&s, "app:1000002", &r).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let menu = json!({ "button": [
        { "name": "Pics", "sub_button": [{ "type": "pic_sysphoto", "name": "Camera", "key": "cam" },
                                         { "type": "pic_photo_or_album", "name": "Album", "key": "album" },
                                         { "type": "pic_weixin", "name": "WeChat", "key": "wx" }] },
        { "type": "location_select", "name": "Where", "key": "loc" },
        { "type": "view_miniprogram", "name": "Mini", "appid": "wx0123456789abcdef", "pagepath": "pages/index" }] });
    let v = s.api_post(&format!("menu/create?access_token={token}&agentid=1000002"), menu.to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let ev = |body: Value| {
        let s = &s;
        async move { s.post(&format!("/corps/{CORPID}/members/zhangsan/apps/1000002/events"), body).await }
    };
    let (a, b) = ("1b5f7c23b5bf75682a53e7b6d163e185", "c4564632a4fab91378c39bea6aad6f9e");
    for body in [
        json!({ "event": "pic_sysphoto", "key": "cam", "pic_md5_sums": [a] }),
        json!({ "event": "pic_photo_or_album", "key": "album", "pic_md5_sums": [a, b] }),
        json!({ "event": "pic_weixin", "key": "wx" }),
        json!({ "event": "location_select", "key": "loc", "location_x": 23.0, "location_y": 113.0, "scale": 15, "label": "广州市海珠区客村艺苑路 106号", "poiname": "T.I.T" }),
        json!({ "event": "view_miniprogram", "pagepath": "pages/index" }),
    ] {
        let (st, v) = ev(body.clone()).await;
        assert_eq!((st, v["pushed"].clone()), (201, json!(true)), "{body} {v}");
    }
    // A key of another type's button, too many pictures, a page the menu does not open.
    for body in [
        json!({ "event": "pic_weixin", "key": "loc" }),
        json!({ "event": "pic_sysphoto", "key": "cam", "pic_md5_sums": [a, b] }),
        json!({ "event": "view_miniprogram", "pagepath": "pages/other" }),
        json!({ "event": "location_select", "key": "loc" }),
    ] {
        let (st, v) = ev(body.clone()).await;
        assert_eq!(st, 400, "{body} {v}");
    }
    let got = r.wait_for(5, 10).await;
    assert_eq!(got.len(), 5, "{got:?}");
    // Everything after CreateTime, as the platform's samples show it.
    let tail = |x: &str| x[x.find("<MsgType>").unwrap()..].to_string();
    assert_eq!(
        tail(&got[0]),
        format!("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_sysphoto]]></Event><EventKey><![CDATA[cam]]></EventKey><SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[{a}]]></PicMd5Sum></item></PicList></SendPicsInfo><AgentID>1000002</AgentID></xml>")
    );
    assert!(tail(&got[1]).contains(&format!("<SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[{a}]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[{b}]]></PicMd5Sum></item></PicList></SendPicsInfo>")), "{}", got[1]);
    assert!(
        got[2].contains("<Event><![CDATA[pic_weixin]]></Event><EventKey><![CDATA[wx]]></EventKey><SendPicsInfo><Count>1</Count>"),
        "{}",
        got[2]
    );
    assert_eq!(
        tail(&got[3]),
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[location_select]]></Event><EventKey><![CDATA[loc]]></EventKey><SendLocationInfo><Location_X><![CDATA[23]]></Location_X><Location_Y><![CDATA[113]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[广州市海珠区客村艺苑路 106号]]></Label><Poiname><![CDATA[T.I.T]]></Poiname></SendLocationInfo><AgentID>1000002</AgentID><AppType><![CDATA[wxwork]]></AppType></xml>"
    );
    assert_eq!(
        tail(&got[4]),
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[view_miniprogram]]></Event><EventKey><![CDATA[pages/index]]></EventKey><AgentID>1000002</AgentID></xml>"
    );
}

/// The inbox item of message `msgid` for `userid`.
async fn inbox_item(s: &Server, userid: &str, msgid: &str) -> Value {
    let (_, inbox) = s.get(&format!("/corps/{CORPID}/members/{userid}/inbox")).await;
    inbox.as_array().unwrap().iter().find(|m| m["msgid"] == msgid).cloned().unwrap_or_else(|| panic!("{userid} has no {msgid}: {inbox}"))
}

async fn card_replies_update_the_clicked_card(db: &Db) {
    let r = Receiver::start().await;
    let card = json!({ "card_type": "button_interaction", "main_title": { "title": "Approve?" }, "task_id": "task_2",
                       "button_list": [{ "text": "Yes", "key": "yes" }, { "text": "No", "key": "no" }] });
    let (s, msgid, code) = card_sent(db, &r, "zhangsan|wangwu", card).await;
    let click = |key: &str| {
        let (s, body) = (&s, json!({ "event": "template_card_event", "msgid": msgid, "key": key }));
        async move {
            let (st, v) = s.post(&format!("/corps/{CORPID}/members/zhangsan/apps/1000002/events"), body).await;
            assert_eq!(st, 201, "{v}");
            v["response_code"].as_str().unwrap().to_string()
        }
    };
    let reply = |body: &str| {
        format!("<xml><ToUserName><![CDATA[{{to}}]]></ToUserName><FromUserName><![CDATA[{CORPID}]]></FromUserName><CreateTime>1</CreateTime>{body}</xml>")
    };

    // update_button: the clicking member's buttons turn into the label.
    r.inner.lock().unwrap().card_reply =
        Some(reply("<MsgType><![CDATA[update_button]]></MsgType><Button><ReplaceName><![CDATA[Approved]]></ReplaceName></Button>"));
    let first_click = click("yes").await;
    let log = settled(&s, "app:1000002", 1, 10).await;
    assert_eq!(log[0]["attempts"][0]["error"], "", "{}", log[0]);
    assert_eq!(inbox_item(&s, "zhangsan", &msgid).await["card_update"], json!({ "button": { "replace_name": "Approved" } }));
    assert_eq!(inbox_item(&s, "wangwu", &msgid).await["card_update"], Value::Null, "only the member who clicked");

    // update_template_card: a whole new card of the same type.
    r.inner.lock().unwrap().card_reply = Some(reply(
        "<MsgType><![CDATA[update_template_card]]></MsgType><TemplateCard><CardType><![CDATA[button_interaction]]></CardType>\
         <MainTitle><Title><![CDATA[Approved by you]]></Title></MainTitle><TaskId><![CDATA[task_2]]></TaskId>\
         <ButtonList><Text><![CDATA[Undo]]></Text><Style>2</Style><Key><![CDATA[undo]]></Key></ButtonList><ReplaceText><![CDATA[Done]]></ReplaceText></TemplateCard>",
    ));
    click("no").await;
    let log = settled(&s, "app:1000002", 2, 10).await;
    assert_eq!(log[1]["attempts"][0]["error"], "", "{}", log[1]);
    let expected = json!({ "template_card": { "card_type": "button_interaction", "main_title": { "title": "Approved by you" }, "task_id": "task_2",
                                              "button_list": [{ "text": "Undo", "style": 2, "key": "undo" }], "replace_text": "Done" } });
    assert_eq!(inbox_item(&s, "zhangsan", &msgid).await["card_update"], expected);

    // Another card_type is refused as message/update_template_card refuses it; the card stays.
    r.inner.lock().unwrap().card_reply = Some(reply(
        "<MsgType><![CDATA[update_template_card]]></MsgType><TemplateCard><CardType><![CDATA[text_notice]]></CardType>\
         <MainTitle><Title><![CDATA[x]]></Title></MainTitle><CardAction><Type>1</Type><Url><![CDATA[https://example.com]]></Url></CardAction></TemplateCard>",
    ));
    click("yes").await;
    let log = settled(&s, "app:1000002", 3, 10).await;
    assert_eq!(log[2]["state"], "delivered");
    assert!(log[2]["attempts"][0]["error"].as_str().unwrap().starts_with("the card update is refused: 42031"), "{}", log[2]);
    assert_eq!(inbox_item(&s, "zhangsan", &msgid).await["card_update"], expected);

    // Replies spend no response_code: the app may still update the card once through the API,
    // with message/send's code and with the click's.
    let token = s.token(CORPID, APP_SECRET).await;
    let body = json!({ "userids": ["wangwu"], "agentid": 1000002, "response_code": code, "button": { "replace_name": "Closed" } });
    let v = s.api_post(&format!("message/update_template_card?access_token={token}"), body.to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(inbox_item(&s, "wangwu", &msgid).await["card_update"], json!({ "button": { "replace_name": "Closed" } }));
    let body =
        json!({ "userids": ["zhangsan"], "agentid": 1000002, "response_code": first_click, "button": { "replace_name": "Reopened" } });
    let v = s.api_post(&format!("message/update_template_card?access_token={token}"), body.to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(inbox_item(&s, "zhangsan", &msgid).await["card_update"], json!({ "button": { "replace_name": "Reopened" } }));
}

async fn https_receivers_need_a_trusted_certificate(db: &Db) {
    let (pem, tls) = self_signed();
    let r = Receiver::start_https(tls).await;
    assert!(r.url.starts_with("https://127.0.0.1:"));
    let path = format!("/corps/{CORPID}/callbacks/app:1000002");
    let settings = json!({ "url": r.url, "token": TOKEN, "encodingaeskey": AES_KEY });
    // The platform checks certificates: a self-signed one is not trusted by default.
    let s = Server::start(db, &[]).await;
    let (st, v) = put(&s, &path, settings.clone()).await;
    assert_eq!((st, v["errcode"].clone()), (400, json!(40057)), "{v}");
    assert!(v["error"].as_str().unwrap().contains("certificate"), "{v}");
    s.kill().await;
    // Trusted through --tls-ca-file, it is verified and receives pushes.
    let (_dir, ca) = ca_file(&pem);
    let s = Server::start(db, &["--tls-ca-file", &ca]).await;
    let (st, v) = put(&s, &path, settings).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = s
        .post(&format!("/corps/{CORPID}/members/zhangsan/apps/1000002/messages"), json!({ "msgtype": "text", "content": "over tls" }))
        .await;
    assert_eq!(st, 201, "{v}");
    let got = r.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(element(&got[0], "Content").as_deref(), Some("over tls"));
    let log = settled(&s, "app:1000002", 1, 10).await;
    assert_eq!((log[0]["state"].clone(), log[0]["attempts"][0]["status"].clone()), (json!("delivered"), json!(200)), "{}", log[0]);
}

async fn upload_media_job_finish_is_pushed_once(db: &Db) {
    let s = Server::start(db, &[]).await;
    let r = Receiver::start().await;
    configure(&s, "app:1000002", &r).await;
    let url = file_server(MP4, None).await;
    let start = |secret: &'static str, md5: String| {
        let (s, body) = (&s, json!({ "scene": 1, "type": "video", "filename": "v.mp4", "url": url, "md5": md5 }));
        async move {
            let t = s.token(CORPID, secret).await;
            let v = s.api_post(&format!("media/upload_by_url?access_token={t}"), body.to_string()).await;
            assert_eq!(v["errcode"], 0, "{v}");
            v["jobid"].as_str().unwrap().to_string()
        }
    };
    let done = start(APP_SECRET, md5_hex(MP4)).await;
    let failed = start(APP_SECRET, "0".repeat(32)).await;
    // The contacts-sync secret belongs to no app: its job ends without an event.
    start(SYNC_SECRET, md5_hex(MP4)).await;
    let got = r.wait_for(2, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(r.pushes().len(), 2, "{got:?}");
    let mut jobs: Vec<String> = got.iter().map(|x| element(x, "JobId").unwrap()).collect();
    jobs.sort();
    let mut expected = vec![done.clone(), failed];
    expected.sort();
    assert_eq!(jobs, expected);
    for x in &got {
        assert!(
            x.starts_with(&format!(
                "<xml><ToUserName><![CDATA[{CORPID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>"
            )),
            "{x}"
        );
        assert!(
            x.contains(
                "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[upload_media_job_finish]]></Event><JobId><![CDATA["
            ),
            "{x}"
        );
        assert!(!x.contains("AgentID"), "{x}");
    }
    // Recorded with the job's end: by the time the event arrives, the result is there.
    let t = s.token(CORPID, APP_SECRET).await;
    let v = s.api_post(&format!("media/get_upload_by_url_result?access_token={t}"), json!({ "jobid": done }).to_string()).await;
    assert_eq!(v["status"], 2, "{v}");
    let log = settled(&s, "app:1000002", 2, 10).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d["state"] == "delivered" && d["attempts"].as_array().unwrap().len() == 1), "{log:?}");
}

async fn a_receiver_down_then_up_gets_everything_in_order(db: &Db) {
    let s = Server::start(db, &[]).await;
    let r = Receiver::start().await;
    configure(&s, "app:1000002", &r).await;
    r.set(Mode::Down);
    for i in 0..3 {
        let (st, v) = s
            .post(
                &format!("/corps/{CORPID}/members/zhangsan/apps/1000002/messages"),
                json!({ "msgtype": "text", "content": format!("m{i}") }),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }
    // The first push fails, then its first retry (1 s later) too; the others wait behind it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = deliveries(&s, "app:1000002").await;
    assert_eq!(log.len(), 3);
    assert!(log[0]["attempts"].as_array().unwrap().len() >= 2, "{}", log[0]);
    assert!(log[0]["attempts"].as_array().unwrap().iter().all(|a| a["status"] == 503 && a["error"] == "HTTP 503"));
    assert_eq!(log[1]["attempts"], json!([]), "in order: nothing is pushed past a pending delivery");
    r.set(Mode::Up);
    let got = r.wait_for(3, 15).await;
    let texts: Vec<String> = got.iter().map(|x| element(x, "Content").unwrap()).collect();
    assert_eq!(texts, ["m0", "m1", "m2"]);
    let log = settled(&s, "app:1000002", 3, 10).await;
    assert!(log.iter().all(|d| d["state"] == "delivered"), "{log:?}");
    let first = log[0]["attempts"].as_array().unwrap();
    assert_eq!(first.last().unwrap()["status"], 200);

    // A receiver that never comes back: the first try and 3 retries, then the platform gives up.
    r.set(Mode::Down);
    s.post(&format!("/corps/{CORPID}/members/zhangsan/apps/1000002/messages"), json!({ "msgtype": "text", "content": "lost" })).await;
    let log = settled(&s, "app:1000002", 4, 20).await;
    let d = &log[3];
    assert_eq!(d["state"], "failed", "{d}");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 4, "{d}");
    // Every attempt carried the same timestamp and nonce (the receiver saw none; the log says).
    assert!(d["timestamp"].as_i64().unwrap() > 0 && !d["nonce"].as_str().unwrap().is_empty());
}

async fn chat_packages_are_acked_by_package_id(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (st, v) = s.post(&format!("/corps/{CORPID}/chat"), json!({})).await;
    assert_eq!(st, 201, "{v}");
    let r = Receiver::start().await;
    configure(&s, "chat", &r).await;
    let chat_token = s.token(CORPID, v["secret"].as_str().unwrap()).await;
    let body = json!({ "chatid": "235364212115767297", "name": "Team", "owner": "zhangsan", "userlist": ["zhangsan", "lisi", "wangwu"] });
    assert_eq!(s.api_post(&format!("chat/create?access_token={chat_token}"), body.to_string()).await["errcode"], 0);
    let (st, v) =
        s.post(&format!("/corps/{CORPID}/chats/235364212115767297/messages"), json!({ "sender": "lisi", "content": "hello" })).await;
    assert_eq!(st, 201, "{v}");
    let package_id = v["package_id"].as_str().unwrap().to_string();
    // chat/create's own create_chat package first, then the member's message.
    let got = r.wait_for(2, 10).await;
    assert_eq!(got.len(), 2);
    assert!(
        got[0].contains("<Event><![CDATA[create_chat]]></Event><ChatInfo><ChatId><![CDATA[235364212115767297]]></ChatId>"),
        "{}",
        got[0]
    );
    assert!(got[1].starts_with(&format!("<xml><AgentType><![CDATA[chat]]></AgentType><ToUserName><![CDATA[{CORPID}]]></ToUserName><ItemCount>1</ItemCount><PackageId>{package_id}</PackageId>")), "{}", got[1]);
    assert!(got[1].contains("<Content><![CDATA[hello]]></Content>"));
    let log = settled(&s, "chat", 2, 10).await;
    assert!(log.iter().all(|d| d["state"] == "delivered"), "{log:?}");
    assert_eq!(log[1]["attempts"][0]["reply"], package_id.as_str());
    // Apps get no chat packages.
    let log = deliveries(&s, "app:1000002").await;
    assert!(log.is_empty());
}

async fn kill_9_during_delivery_loses_nothing(db: &Db) {
    let s = Server::start(db, &[]).await;
    let r = Receiver::start().await;
    configure(&s, "app:1000002", &r).await;
    // The receiver holds the first push for 3 s, long enough to kill wecomd mid-delivery.
    r.set(Mode::Slow(3000));
    for i in 0..5 {
        let (st, _) = s
            .post(
                &format!("/corps/{CORPID}/members/zhangsan/apps/1000002/messages"),
                json!({ "msgtype": "text", "content": format!("k{i}") }),
            )
            .await;
        assert_eq!(st, 201);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.kill().await;
    r.set(Mode::Up);
    // The restarted server takes the delivery over once the dead one's lease runs out.
    let s = Server::start(db, &[]).await;
    let start = Instant::now();
    let log = settled(&s, "app:1000002", 5, 40).await;
    assert!(log.iter().all(|d| d["state"] == "delivered"), "{log:?}");
    eprintln!("{:?}: all 5 delivered {:?} after the restart", db.backend, start.elapsed());
    // At least once: the push in flight may arrive twice (same MsgId), every one arrives.
    let got = r.pushes();
    let mut texts: Vec<String> = got.iter().map(|x| element(x, "Content").unwrap()).collect();
    texts.dedup();
    assert_eq!(texts, ["k0", "k1", "k2", "k3", "k4"], "{got:?}");
}

async fn seeded_callbacks_skip_verification(db: &Db) {
    let s = Server::start(db, &[]).await;
    let corpid = "ww00000000000000aa";
    let r = Receiver::start_for(corpid).await;
    // Down while the seed is applied: seeds save receivers without verifying them.
    r.set(Mode::Down);
    let seed = |owner: &str| {
        format!(
            "[[corp]]\ncorpid = \"{corpid}\"\nname = \"Seeded\"\n\n[[corp.app]]\nagentid = 1000002\nname = \"A\"\nallow_parties = [1]\n\n\
             [[corp.member]]\nuserid = \"u1\"\nname = \"U1\"\ndepartment = [1]\n\n\
             [[corp.callback]]\nowner = \"{owner}\"\nurl = \"{}\"\ntoken = \"{TOKEN}\"\nencodingaeskey = \"{AES_KEY}\"\n",
            r.url
        )
    };
    let post = |body: String| {
        let s = &s;
        async move {
            let r = s.http().post(s.url("/control/seed")).body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (st, text) = post(seed("app:1000009")).await;
    assert_eq!(st, 400, "an app the seed does not list: {text}");
    let (st, text) = post(seed("chat")).await;
    assert_eq!(st, 400, "no chat service: {text}");
    let (st, text) = post(seed("app:1000002")).await;
    assert_eq!(st, 200, "{text}");
    let (_, list) = s.get(&format!("/corps/{corpid}/callbacks")).await;
    assert_eq!(list[0]["owner"], "app:1000002");
    r.set(Mode::Up);
    let (st, v) =
        s.post(&format!("/corps/{corpid}/members/u1/apps/1000002/messages"), json!({ "msgtype": "text", "content": "seeded" })).await;
    assert_eq!(st, 201, "{v}");
    let got = r.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with(&format!("<xml><ToUserName><![CDATA[{corpid}]]></ToUserName>")), "{}", got[0]);
}

on_both_backends!(
    seeded_callbacks_skip_verification,
    verification_refuses_bad_receivers,
    change_contact_goes_to_sync_and_covering_apps,
    member_actions_reach_the_app_and_replies_the_inbox,
    template_card_clicks_are_pushed,
    card_clicks_issue_their_own_response_codes,
    menu_pictures_locations_and_miniprograms_reach_the_app,
    card_replies_update_the_clicked_card,
    https_receivers_need_a_trusted_certificate,
    upload_media_job_finish_is_pushed_once,
    a_receiver_down_then_up_gets_everything_in_order,
    chat_packages_are_acked_by_package_id,
    kill_9_during_delivery_loses_nothing,
);

/// Two instances on one PostgreSQL: every event is pushed by exactly one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_push_each_event_once() {
    if !postgres_available().await {
        return;
    }
    let db = Db::new(Backend::Postgres).await;
    let a = Server::start(&db, &[]).await;
    let b = Server::start(&db, &[]).await;
    let r = Receiver::start().await;
    configure(&a, "app:1000002", &r).await;
    let n = 60;
    for i in 0..n {
        let s = if i % 2 == 0 { &a } else { &b };
        let (st, _) = s
            .post(
                &format!("/corps/{CORPID}/members/zhangsan/apps/1000002/messages"),
                json!({ "msgtype": "text", "content": format!("t{i}") }),
            )
            .await;
        assert_eq!(st, 201);
    }
    let log = settled(&b, "app:1000002", n, 30).await;
    assert_eq!(log.len(), n);
    let mut by: HashMap<String, usize> = HashMap::new();
    for d in &log {
        assert_eq!(d["state"], "delivered", "{d}");
        assert_eq!(d["attempts"].as_array().unwrap().len(), 1, "pushed once: {d}");
        *by.entry(d["attempts"][0]["instance"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let texts: Vec<String> = r.pushes().iter().map(|x| element(x, "Content").unwrap()).collect();
    assert_eq!(texts, (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>(), "each once, in order");
    eprintln!("deliveries per instance: {by:?}");
    drop((a, b));
    db.drop_db().await;
}
