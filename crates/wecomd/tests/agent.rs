//! agent/get, agent/set, agent/list over HTTP: one app seen through a WeCom token and a 管理组
//! token on the same corp, fields written by one dialect read by the other, every agent/set rule,
//! and the app attributes of seeds and the control API.

mod common;

use common::*;
use serde_json::{json, Value};

async fn get(s: &Server, token: &str, agentid: &str) -> Value {
    s.api(&format!("agent/get?access_token={token}&agentid={agentid}")).await
}

async fn set(s: &Server, token: &str, body: Value) -> Value {
    s.api_post(&format!("agent/set?access_token={token}"), body.to_string()).await
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

async fn views_per_dialect(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (st, v) = s
        .post(
            &format!("/corps/{CORPID}/apps"),
            json!({ "name": "Visible", "allow_users": ["ZhangSan", "lisi", "ghost"], "allow_tags": [1] }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let agentid = v["agentid"].as_i64().unwrap();
    let wecom = s.token(CORPID, v["secret"].as_str().unwrap()).await;
    let (st, g) =
        s.post(&format!("/corps/{CORPID}/groups"), json!({ "name": "Sees it", "apps": [{ "agentid": agentid, "right": "use" }] })).await;
    assert_eq!(st, 201, "{g}");
    let legacy = s.token(CORPID, g["secret"].as_str().unwrap()).await;

    let w = get(&s, &wecom, &agentid.to_string()).await;
    assert_eq!(
        keys(&w),
        [
            "agentid",
            "allow_partys",
            "allow_tags",
            "allow_userinfos",
            "close",
            "description",
            "errcode",
            "errmsg",
            "home_url",
            "isreportenter",
            "name",
            "redirect_domain",
            "report_location_flag",
            "square_logo_url"
        ],
        "{w}"
    );
    assert_eq!(w["errmsg"], "ok");
    assert_eq!(w["allow_userinfos"], json!({ "user": [{ "userid": "zhangsan" }, { "userid": "lisi" }] }), "existing members, stored case");
    assert_eq!(w["allow_partys"], json!({ "partyid": [] }));
    assert_eq!(w["allow_tags"], json!({ "tagid": [1] }));
    assert_eq!((w["close"].clone(), w["report_location_flag"].clone(), w["home_url"].clone()), (json!(0), json!(0), json!("")));

    let l = get(&s, &legacy, &agentid.to_string()).await;
    assert_eq!(
        keys(&l),
        [
            "agentid",
            "allow_partys",
            "allow_tags",
            "allow_userinfos",
            "chat_extension_url",
            "close",
            "description",
            "errcode",
            "errmsg",
            "isreportenter",
            "isreportuser",
            "name",
            "redirect_domain",
            "report_location_flag",
            "round_logo_url",
            "square_logo_url",
            "type"
        ],
        "{l}"
    );
    assert_eq!(l["type"], 1, "a message app unless set otherwise");
    assert_eq!(
        l["allow_userinfos"],
        json!({ "user": [{ "userid": "zhangsan", "status": 1 }, { "userid": "lisi", "status": 4 }] }),
        "follow status: zhangsan logged in, lisi not"
    );
    assert_eq!(l["errmsg"], "ok");
}

async fn writes_cross_dialects(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;

    // wechatpy sends isreportuser to WeCom too: accepted and ignored.
    let logo_media = s.media_id(&wecom, "image", "logo.jpg", JPEG).await;
    let v = set(
        &s,
        &wecom,
        json!({ "agentid": 1000002, "name": "通知", "description": "Notifies everyone", "redirect_domain": "app.example.com",
                "report_location_flag": 1, "isreportenter": 1, "isreportuser": 1, "home_url": "https://app.example.com/home",
                "logo_mediaid": logo_media }),
    )
    .await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    let l = get(&s, &legacy, "1000002").await;
    assert_eq!(l["name"], "通知");
    assert_eq!(l["description"], "Notifies everyone");
    assert_eq!(l["redirect_domain"], "app.example.com");
    assert_eq!(l["report_location_flag"], 1);
    assert_eq!(l["isreportenter"], 1);
    assert_eq!(l["isreportuser"], 0, "WeCom has no isreportuser to set");
    let logo = l["square_logo_url"].as_str().unwrap();
    assert!(logo.starts_with(&format!("{}/media/img/", s.base)), "served by wecomd: {logo}");
    let served = s.http().get(logo).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert_eq!(&served.bytes().await.unwrap()[..], JPEG);
    assert_eq!(l["round_logo_url"], logo, "one uploaded logo, both shapes");
    assert!(l.get("home_url").is_none());

    // 企业号: home_url only for homepage apps; type, isreportuser, chat_extension_url are its own.
    let v = set(&s, &legacy, json!({ "agentid": 1000002, "home_url": "https://legacy.example.com" })).await;
    assert_eq!(code(&v), 40058, "{v}");
    assert_eq!(v["errmsg"], "invalid Request Parameter: home_url is only for homepage apps (type 2)", "legacy errmsg is bare");
    let v = set(
        &s,
        &legacy,
        json!({ "agentid": "1000002", "type": 2, "home_url": "https://legacy.example.com", "isreportuser": 1,
                "chat_extension_url": "https://legacy.example.com/chat", "report_location_flag": 2 }),
    )
    .await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    let l = get(&s, &legacy, "1000002").await;
    assert_eq!((l["type"].clone(), l["isreportuser"].clone(), l["report_location_flag"].clone()), (json!(2), json!(1), json!(2)));
    assert_eq!(l["chat_extension_url"], "https://legacy.example.com/chat");
    let w = get(&s, &wecom, "1000002").await;
    assert_eq!(w["home_url"], "https://legacy.example.com", "written by the 企业号, read by WeCom");
    assert_eq!(w["report_location_flag"], 2, "the stored value, even where WeCom documents 0/1 only");
    assert!(w.get("chat_extension_url").is_none() && w.get("type").is_none());

    // WeCom ignores type: a homepage app stays one, and WeCom may set home_url on any app.
    assert_eq!(code(&set(&s, &wecom, json!({ "agentid": 1000002, "type": 1, "home_url": "" })).await), 0);
    let l = get(&s, &legacy, "1000002").await;
    assert_eq!(l["type"], 2);
    assert_eq!(get(&s, &wecom, "1000002").await["home_url"], "", "an empty home_url clears it");
}

async fn errcodes(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let reader = s.token(CORPID, GROUP2_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;

    assert_eq!(code(&s.api(&format!("agent/get?access_token={wecom}")).await), 41011);
    assert_eq!(code(&get(&s, &wecom, "").await), 41011);
    assert_eq!(code(&get(&s, &wecom, "x").await), 40056);
    assert_eq!(code(&get(&s, &wecom, "999").await), 40056);
    let v = get(&s, &wecom, "1000003").await;
    assert_eq!(code(&v), 301002, "another app of the corp: {v}");
    assert!(v["errmsg"].as_str().unwrap().contains("more info at https://open.work.weixin.qq.com/devtool/query?e=301002"));
    assert_eq!(code(&get(&s, &sync, "1000002").await), 48002, "the contacts-sync secret is no app");
    assert_eq!(code(&get(&s, &reader, "1000002").await), 60011, "no right on it");
    assert_eq!(get(&s, &reader, "1000003").await["agentid"], 1000003, "use rights read");
    assert_eq!(code(&set(&s, &reader, json!({ "agentid": 1000003, "name": "Mine" })).await), 60011, "use rights do not manage");
    assert_eq!(code(&set(&s, &wecom, json!({ "name": "x" })).await), 41011);
    assert_eq!(code(&set(&s, &wecom, json!({ "agentid": 1000003, "name": "x" })).await), 301002);

    let cases = [
        (json!({ "name": "" }), 45022),
        (json!({ "name": "a".repeat(33) }), 45022),
        (json!({ "description": "abc" }), 45004),
        (json!({ "description": "a".repeat(121) }), 45004),
        (json!({ "report_location_flag": 2 }), 40059),
        (json!({ "logo_mediaid": "" }), 40007),
        (json!({ "redirect_domain": "not a domain" }), 85005),
        (json!({ "home_url": "app.example.com" }), 45034),
        (json!({ "home_url": "https://" }), 40094),
        (json!({ "isreportenter": 2 }), 40058),
        (json!({ "name": 5 }), 40058),
    ];
    for (mut body, expected) in cases {
        body["agentid"] = 1000002.into();
        let v = set(&s, &wecom, body.clone()).await;
        assert_eq!(code(&v), expected, "{body}: {v}");
    }
    assert_eq!(code(&set(&s, &legacy, json!({ "agentid": 1000002, "report_location_flag": 3 })).await), 40059);
    assert_eq!(code(&set(&s, &legacy, json!({ "agentid": 1000002, "type": 3 })).await), 40058);
    assert_eq!(code(&set(&s, &legacy, json!({ "agentid": 1000002, "name": 5 })).await), 47001);

    // A refused call changes nothing, even the fields before the bad one.
    let v = set(&s, &wecom, json!({ "agentid": 1000002, "name": "Renamed", "description": "abc" })).await;
    assert_eq!(code(&v), 45004);
    assert_eq!(get(&s, &wecom, "1000002").await["name"], "Notify");
}

async fn lists(db: &Db) {
    let s = Server::start(db, &[]).await;
    let list = |token: String| {
        let s = &s;
        async move { s.api(&format!("agent/list?access_token={token}")).await }
    };
    let w = list(s.token(CORPID, APP_SECRET).await).await;
    assert_eq!(w, json!({ "errcode": 0, "errmsg": "ok", "agentlist": [{ "agentid": 1000002, "name": "Notify", "square_logo_url": "" }] }));
    let w = list(s.token(CORPID, APP2_SECRET).await).await;
    assert_eq!(w["agentlist"].as_array().unwrap().len(), 1, "only its own app: {w}");
    assert_eq!(code(&list(s.token(CORPID, SYNC_SECRET).await).await), 48002);

    // 企业号: every app the group may use or manage, with round_logo_url.
    let (_, g) = s
        .post(
            &format!("/corps/{CORPID}/groups"),
            json!({ "name": "Both", "apps": [
        { "agentid": 1000002, "right": "use" }, { "agentid": 1000003, "right": "manage" }] }),
        )
        .await;
    let l = list(s.token(CORPID, g["secret"].as_str().unwrap()).await).await;
    assert_eq!(
        l["agentlist"],
        json!([
            { "agentid": 1000002, "name": "Notify", "square_logo_url": "", "round_logo_url": "" },
            { "agentid": 1000003, "name": "Approval", "square_logo_url": "", "round_logo_url": "" }
        ])
    );
    let l = list(s.token(CORPID, GROUP2_SECRET).await).await;
    assert_eq!(l["agentlist"].as_array().unwrap().iter().map(|a| a["agentid"].as_i64().unwrap()).collect::<Vec<_>>(), vec![1000003]);
}

async fn seeded_and_controlled_attributes(db: &Db) {
    let s = Server::start(db, &[]).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let wecom = s.token(CORPID, APP_SECRET).await;

    // The seed names attributes; applying it again keeps what agent/set changed elsewhere.
    let seed = SEED.replacen(
        "name = \"Notify\"\n",
        "name = \"Notify\"\ndescription = \"Tells everyone\"\ntype = 2\nhome_url = \"https://seed.example.com\"\nclose = true\nsquare_logo_url = \"https://p.qlogo.cn/bizmail/seed/0\"\n",
        1,
    );
    let r = s.http().post(s.url("/control/seed")).body(seed.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let l = get(&s, &legacy, "1000002").await;
    assert_eq!((l["type"].clone(), l["close"].clone(), l["description"].clone()), (json!(2), json!(1), json!("Tells everyone")));
    assert_eq!(l["round_logo_url"], "https://p.qlogo.cn/bizmail/seed/0");
    // A disabled app's token and secret answer 50003 (wecom-api §3.1).
    let v = get(&s, &wecom, "1000002").await;
    assert_eq!(code(&v), 50003, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("app is disabled, hint: ["), "{v}");
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 50003);
    assert_eq!(code(&get(&s, &s.token(CORPID, APP2_SECRET).await, "1000003").await), 0, "other apps are not disabled");
    assert_eq!(code(&set(&s, &legacy, json!({ "agentid": 1000002, "isreportuser": 1 })).await), 0);
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get(&s, &legacy, "1000002").await["isreportuser"], 1, "what the seed leaves out stays");

    // The control API changes attributes of an existing app, with agent/set's bounds.
    let (st, v) = s
        .control(
            reqwest::Method::PATCH,
            &format!("/corps/{CORPID}/apps/1000002"),
            Some(json!({ "type": 1, "close": false, "name": "Renamed" })),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["attributes"]["type"], 1);
    let l = get(&s, &legacy, "1000002").await;
    assert_eq!((l["type"].clone(), l["close"].clone(), l["name"].clone()), (json!(1), json!(0), json!("Renamed")));
    assert_eq!(get(&s, &wecom, "1000002").await["home_url"], "https://seed.example.com", "enabled again: the same token works");
    let (st, _) = s.control(reqwest::Method::PATCH, &format!("/corps/{CORPID}/apps/1000002"), Some(json!({ "home_url": "nope" }))).await;
    assert_eq!(st, 400);
    let (st, _) = s.control(reqwest::Method::PATCH, &format!("/corps/{CORPID}/apps/1000002"), Some(json!({ "type": 3 }))).await;
    assert_eq!(st, 400);
    let (st, _) = s.control(reqwest::Method::PATCH, &format!("/corps/{CORPID}/apps/1000009"), Some(json!({ "close": true }))).await;
    assert_eq!(st, 404);
    let (st, v) = s.post(&format!("/corps/{CORPID}/apps"), json!({ "name": "Home", "type": 2, "home_url": "https://h.example.com" })).await;
    assert_eq!(st, 201, "{v}");
    let (st, _) = s.post(&format!("/corps/{CORPID}/apps"), json!({ "name": "Bad", "description": "abc" })).await;
    assert_eq!(st, 400, "a description the platform could not hold");
}

/// The 企业号 changed an app only in callback mode: off (by a seed or the control API), a 管理组's
/// agent/set answers 48001 and changes nothing; reading and WeCom tokens are not affected.
async fn legacy_set_needs_callback_mode(db: &Db) {
    let s = Server::start(db, &[]).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let (st, v) =
        s.control(reqwest::Method::PATCH, &format!("/corps/{CORPID}/apps/1000002"), Some(json!({ "callback_mode": false }))).await;
    assert_eq!((st, v["attributes"]["callback_mode"].clone()), (200, json!(false)), "{v}");
    let v = set(&s, &legacy, json!({ "agentid": 1000002, "description": "Not in callback mode" })).await;
    assert_eq!(v, json!({ "errcode": 48001, "errmsg": "api unauthorized" }));
    let l = get(&s, &legacy, "1000002").await;
    assert_eq!(code(&l), 0, "agent/get still answers: {l}");
    assert!(l.get("callback_mode").is_none(), "not an agent/get field");
    assert_eq!(l["description"], "");
    // Rights come first: a group without 管理权限 hears 60011 whatever the mode.
    let reader = s.token(CORPID, GROUP2_SECRET).await;
    s.control(reqwest::Method::PATCH, &format!("/corps/{CORPID}/apps/1000003"), Some(json!({ "callback_mode": false }))).await;
    assert_eq!(code(&set(&s, &reader, json!({ "agentid": 1000003, "name": "x" })).await), 60011);
    // WeCom has no modes.
    assert_eq!(code(&set(&s, &wecom, json!({ "agentid": 1000002, "description": "WeCom sets it" })).await), 0);
    // Back in callback mode, the group may change the app again.
    s.control(reqwest::Method::PATCH, &format!("/corps/{CORPID}/apps/1000002"), Some(json!({ "callback_mode": true }))).await;
    assert_eq!(code(&set(&s, &legacy, json!({ "agentid": 1000002, "description": "Callback mode again" })).await), 0);
    assert_eq!(get(&s, &wecom, "1000002").await["description"], "Callback mode again");
    // A seed may say it too.
    let seed = SEED.replacen("name = \"Notify\"\n", "name = \"Notify\"\ncallback_mode = false\n", 1);
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(code(&set(&s, &legacy, json!({ "agentid": 1000002, "name": "x" })).await), 48001);
}

on_both_backends!(
    views_per_dialect,
    writes_cross_dialects,
    errcodes,
    lists,
    seeded_and_controlled_attributes,
    legacy_set_needs_callback_mode
);
