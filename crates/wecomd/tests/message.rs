//! message/send, recall and update_template_card over HTTP in both dialects, and the member inbox
//! (control API) that shows what each member received.

mod common;

use common::*;
use serde_json::{json, Value};

async fn send(s: &Server, token: &str, body: Value) -> Value {
    s.api_post(&format!("message/send?access_token={token}"), body.to_string()).await
}

async fn call(s: &Server, path: &str, token: &str, body: Value) -> Value {
    s.api_post(&format!("message/{path}?access_token={token}"), body.to_string()).await
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

fn text(to: &str, content: &str) -> Value {
    json!({ "touser": to, "msgtype": "text", "agentid": 1000002, "text": { "content": content } })
}

async fn inbox(s: &Server, userid: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/corps/{CORPID}/members/{userid}/inbox")).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

async fn sends_and_delivers(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;

    let v = send(&s, &app, text("zhangsan|LiSi", "hello")).await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(v["errmsg"], "ok");
    let msgid = v["msgid"].as_str().unwrap().to_string();
    assert!(v.get("invaliduser").is_none(), "no invalid list when all are valid: {v}");
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["msgid"], msgid.as_str());
    assert_eq!(got[0]["msgtype"], "text");
    assert_eq!(got[0]["content"], json!({ "content": "hello" }));
    assert_eq!(got[0]["agentid"], 1000002);
    assert_eq!(got[0]["recalled"], false);
    assert_eq!(inbox(&s, "lisi").await.len(), 1, "userids ignore case");
    assert!(inbox(&s, "wangwu").await.is_empty());

    // Partial failure: errcode 0, pipe strings, userids lower-cased.
    let v = send(&s, &app, json!({ "touser": "zhangsan|Ghost", "toparty": "3|99|x", "totag": "1|77", "msgtype": "text", "agentid": 1000002, "text": { "content": "p" } })).await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(v["invaliduser"], "ghost");
    assert_eq!(v["invalidparty"], "99|x");
    assert_eq!(v["invalidtag"], "77");
    assert_eq!(inbox(&s, "wangwu").await.len(), 1, "party 3 reached wangwu");
    assert_eq!(inbox(&s, "zhangsan").await.len(), 2, "named and tagged once: one message");

    // All invalid: 81013 with the lists.
    let v =
        send(&s, &app, json!({ "touser": "ghost", "toparty": "99", "msgtype": "text", "agentid": 1000002, "text": { "content": "x" } }))
            .await;
    assert_eq!(code(&v), 81013, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("user & party & tag all invalid, hint: ["));
    assert_eq!(v["invaliduser"], "ghost");
    assert_eq!(v["invalidparty"], "99");

    // @all reaches everyone the app sees; toparty is then ignored.
    let v = send(
        &s,
        &app,
        json!({ "touser": "@all", "toparty": "99", "msgtype": "markdown", "agentid": 1000002, "markdown": { "content": "**hi**" } }),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    for u in ["zhangsan", "lisi", "wangwu"] {
        assert_eq!(inbox(&s, u).await.last().unwrap()["msgtype"], "markdown", "{u}");
    }
}

async fn visible_range_and_agentid(db: &Db) {
    let s = Server::start(db, &[]).await;
    let rd = s.token(CORPID, APP2_SECRET).await; // app 1000003 sees R&D only
    let mut body = text("zhangsan|wangwu", "x");
    body["agentid"] = json!(1000003);
    let v = send(&s, &rd, body.clone()).await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(v["invaliduser"], "wangwu", "outside the app's visible range");
    body["touser"] = json!("@all");
    send(&s, &rd, body.clone()).await;
    assert_eq!(inbox(&s, "zhangsan").await.len(), 2);
    assert!(inbox(&s, "wangwu").await.is_empty() && inbox(&s, "lisi").await.is_empty(), "@all is the visible range");
    body["toparty"] = json!("3");
    body["touser"] = json!("");
    assert_eq!(code(&send(&s, &rd, body.clone()).await), 81013, "a department outside the range");

    body["agentid"] = json!(1000002);
    assert_eq!(code(&send(&s, &rd, body.clone()).await), 301002, "another app's agentid");
    body["agentid"] = json!(999);
    assert_eq!(code(&send(&s, &rd, body.clone()).await), 40056);
    body["agentid"] = json!("abc");
    assert_eq!(code(&send(&s, &rd, body.clone()).await), 40056);
    body.as_object_mut().unwrap().remove("agentid");
    assert_eq!(code(&send(&s, &rd, body).await), 41011);
    let sync = s.token(CORPID, SYNC_SECRET).await;
    assert_eq!(code(&send(&s, &sync, text("zhangsan", "x")).await), 48002, "the contacts-sync secret sends nothing");
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(
        code(&send(&s, &app, json!({ "touser": "", "msgtype": "text", "agentid": 1000002, "text": { "content": "x" } })).await),
        82001
    );
    let many = (0..101).map(|i| i.to_string()).collect::<Vec<_>>().join("|");
    let v = send(&s, &app, json!({ "totag": many, "msgtype": "text", "agentid": 1000002, "text": { "content": "x" } })).await;
    assert_eq!(code(&v), 82003);
}

async fn content_rules(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let with = |msgtype: &str, payload: Value| json!({ "touser": "zhangsan", "msgtype": msgtype, "agentid": 1000002, msgtype: payload });
    let cases = [
        (with("nope", json!({})), 40008),
        (with("text", json!({ "content": "" })), 44004),
        (with("markdown", json!({ "content": "a".repeat(2049) })), 45002),
        (with("image", json!({})), 41006),
        (with("textcard", json!({ "title": "t", "url": "https://x" })), 41033),
        (with("textcard", json!({ "title": "t", "description": "d", "url": "x.com" })), 45034),
        (with("news", json!({ "articles": [] })), 45008),
        (with("news", json!({ "articles": [{ "url": "https://x" }] })), 41016),
        (with("mpnews", json!({ "articles": [{ "title": "t", "thumb_media_id": "m", "content": "c", "author": "a".repeat(65) }] })), 45032),
        (with("miniprogram_notice", json!({ "title": "abcd" })), 90200),
        (with("template_card", json!({ "card_type": "bogus" })), 42031),
        (with("template_card", json!({ "card_type": "text_notice" })), 42045),
    ];
    for (body, expected) in cases {
        let v = send(&s, &app, body.clone()).await;
        assert_eq!(code(&v), expected, "{body} → {v}");
    }
    let mut news = with("news", json!({ "articles": [{ "title": "t", "url": "https://x" }] }));
    news["safe"] = json!(1);
    assert_eq!(code(&send(&s, &app, news.clone()).await), 40074);
    news["safe"] = json!(0);
    assert_eq!(code(&send(&s, &app, news).await), 0, "SDKs send safe=0 with every type");

    // Truncation as members see it; media ids must name uploaded media (40007).
    let v = send(&s, &app, with("text", json!({ "content": "中".repeat(700) }))).await;
    assert_eq!(code(&v), 0);
    let v = send(&s, &app, with("video", json!({ "media_id": "MEDIA", "title": "t" }))).await;
    assert_eq!(code(&v), 40007, "{v}");
    let video = s.media_id(&app, "video", "v.mp4", b"\0\0\0\x18ftypmp42 a video").await;
    let v = send(&s, &app, with("video", json!({ "media_id": video, "title": "t".repeat(200) }))).await;
    assert_eq!(code(&v), 0, "{v}");
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got[1]["content"]["content"].as_str().unwrap().len(), 2046, "text cut at 2048 bytes");
    assert_eq!(got[2]["content"]["title"].as_str().unwrap().len(), 128);

    // enable_id_trans names members and departments.
    let mut body = with("text", json!({ "content": "from $userName=WangWu$ of $departmentName=3$" }));
    body["enable_id_trans"] = json!(1);
    send(&s, &app, body).await;
    assert_eq!(inbox(&s, "zhangsan").await[3]["content"]["content"], "from Wang Wu of Sales");
}

async fn legacy_dialect(db: &Db) {
    let s = Server::start(db, &[]).await;
    let group = s.token(CORPID, GROUP_SECRET).await; // manages 1000002
    let v = send(&s, &group, text("zhangsan|ghost", "from 企业号")).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(v["invaliduser"], "ghost");
    assert!(v.get("msgid").is_none(), "企业号 answered no msgid: {v}");
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got[0]["sender"], "group:1");
    assert_eq!(got[0]["content"]["content"], "from 企业号");
    let md = json!({ "touser": "zhangsan", "msgtype": "markdown", "agentid": 1000002, "markdown": { "content": "x" } });
    let v = send(&s, &group, md).await;
    assert_eq!(v["errcode"], 40008, "企业号 had no markdown");
    assert_eq!(v["errmsg"], "invalid message type: msgtype \"markdown\"", "legacy errmsg is bare");
    // news took 1-10 articles in the 企业号 (WeCom: 1-8).
    let news = |n: usize| json!({ "touser": "zhangsan", "msgtype": "news", "agentid": 1000002, "news": { "articles": vec![json!({ "title": "t", "url": "https://x" }); n] } });
    assert_eq!(send(&s, &group, news(10)).await["errcode"], 0);
    assert_eq!(send(&s, &group, news(11)).await["errcode"], 45008);
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(send(&s, &app, news(9)).await["errcode"], 45008);
    assert_eq!(inbox(&s, "zhangsan").await[1]["content"]["articles"].as_array().unwrap().len(), 10);
    let legacy_material = json!({ "touser": "zhangsan", "msgtype": "mpnews", "agentid": 1000002, "mpnews": { "media_id": "2-perm" } });
    // A permanent mpnews is sent by its id only when the app has it (tests/material.rs sends one).
    assert_eq!(send(&s, &group, legacy_material).await["errcode"], 40007);

    // Group 2 uses 1000003 (R&D) and reads R&D: it may not use 1000002, nor reach Sales.
    let g2 = s.token(CORPID, GROUP2_SECRET).await;
    assert_eq!(send(&s, &g2, text("zhangsan", "x")).await["errcode"], 60011);
    let mut body = text("zhangsan|wangwu", "x");
    body["agentid"] = json!(1000003);
    let v = send(&s, &g2, body).await;
    assert_eq!(v["invaliduser"], "wangwu", "{v}");

    // recall and card updates are WeCom APIs.
    assert_eq!(call(&s, "recall", &group, json!({ "msgid": "x" })).await["errcode"], 48002);
}

async fn recall_and_duplicates(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let msgid = send(&s, &app, text("zhangsan", "oops")).await["msgid"].as_str().unwrap().to_string();
    let other = s.token(CORPID, APP2_SECRET).await;
    assert_eq!(code(&call(&s, "recall", &other, json!({ "msgid": msgid })).await), 40058, "only the sending app recalls");
    assert_eq!(code(&call(&s, "recall", &app, json!({ "msgid": "unknown" })).await), 40058);
    let v = call(&s, "recall", &app, json!({ "msgid": msgid })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    assert_eq!(inbox(&s, "zhangsan").await[0]["recalled"], true);

    let late = send(&s, &app, text("zhangsan", "late")).await["msgid"].as_str().unwrap().to_string();
    s.advance(24 * 3600 + 1).await;
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(code(&call(&s, "recall", &app, json!({ "msgid": late })).await), 42052);

    let mut dup = text("zhangsan", "once");
    dup["enable_duplicate_check"] = json!(1);
    dup["duplicate_check_interval"] = json!(60);
    let first = send(&s, &app, dup.clone()).await;
    let second = send(&s, &app, dup.clone()).await;
    assert_eq!(code(&second), 0, "a duplicate is not an error: {second}");
    assert_eq!(second["msgid"], first["msgid"], "the duplicate answers the first message");
    let onces = |items: &[Value]| items.iter().filter(|m| m["content"]["content"] == "once").count();
    assert_eq!(onces(&inbox(&s, "zhangsan").await), 1, "and is not delivered again");
    s.advance(61).await;
    let app = s.token(CORPID, APP_SECRET).await;
    assert_ne!(send(&s, &app, dup).await["msgid"], first["msgid"], "after the window it is sent again");
    assert_eq!(onces(&inbox(&s, "zhangsan").await), 2);
}

async fn template_cards(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let card = json!({
        "card_type": "button_interaction", "task_id": "task-1",
        "main_title": { "title": "Approve?" },
        "button_list": [{ "text": "Yes", "key": "yes" }, { "text": "No", "key": "no" }]
    });
    let body = json!({ "touser": "zhangsan|lisi", "msgtype": "template_card", "agentid": 1000002, "template_card": card });
    let v = send(&s, &app, body.clone()).await;
    assert_eq!(code(&v), 0, "{v}");
    let response_code = v["response_code"].as_str().unwrap().to_string();
    assert_eq!(code(&send(&s, &app, body).await), 42014, "a task_id is used once per app");
    let notice = json!({ "touser": "zhangsan", "msgtype": "template_card", "agentid": 1000002,
        "template_card": { "card_type": "text_notice", "card_action": { "type": 1, "url": "https://x" } } });
    assert!(send(&s, &app, notice).await.get("response_code").is_none(), "notice cards cannot be updated");

    let update = |extra: Value| {
        let mut b = json!({ "agentid": 1000002, "response_code": response_code, "button": { "replace_name": "Done" } });
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    assert_eq!(code(&call(&s, "update_template_card", &app, update(json!({}))).await), 82101);
    assert_eq!(code(&call(&s, "update_template_card", &app, update(json!({ "userids": ["wangwu"] }))).await), 82102);
    let mut bad = update(json!({ "userids": ["zhangsan"] }));
    bad["response_code"] = json!("nope");
    assert_eq!(code(&call(&s, "update_template_card", &app, bad).await), 60140);
    let v = call(&s, "update_template_card", &app, update(json!({ "userids": ["zhangsan", "wangwu"] }))).await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(v["invaliduser"], json!(["wangwu"]));
    assert_eq!(inbox(&s, "zhangsan").await[0]["card_update"], json!({ "button": { "replace_name": "Done" } }));
    assert_eq!(inbox(&s, "lisi").await[0]["card_update"], Value::Null, "only the named member's card changed");
    let v = call(&s, "update_template_card", &app, update(json!({ "atall": 1 }))).await;
    assert_eq!(code(&v), 60140, "a response_code serves once");
}

/// interactive_taskcard through message/send (WeCom only) and message/update_taskcard: task_id
/// once per app, button rules, updates by task_id that members' inboxes show.
async fn taskcards(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let app2 = s.token(CORPID, APP2_SECRET).await;
    let card = json!({ "title": "Gift request", "description": "A31 tea set", "url": "https://x.example.com", "task_id": "gift-1",
        "btn": [{ "key": "approve", "name": "批准", "color": "red", "is_bold": true }, { "key": "reject", "name": "驳回" }] });
    let body = json!({ "touser": "zhangsan|lisi", "msgtype": "interactive_taskcard", "agentid": 1000002, "interactive_taskcard": card });
    let v = send(&s, &app, body.clone()).await;
    assert_eq!(code(&v), 0, "{v}");
    assert!(v.get("response_code").is_none(), "{v}");
    assert_eq!(code(&send(&s, &app, body.clone()).await), 42014, "a task_id is used once per app");
    let mut bad = body.clone();
    bad["interactive_taskcard"]["btn"] = json!([{ "key": "a" }]);
    bad["interactive_taskcard"]["task_id"] = json!("gift-2");
    assert_eq!(code(&send(&s, &app, bad).await), 42020);
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    assert_eq!(code(&send(&s, &legacy, body).await), 40008, "the 企业号 had no task cards");
    let got = &inbox(&s, "lisi").await[0];
    assert_eq!(
        (got["msgtype"].as_str(), got["content"]["btn"][0]["replace_name"].as_str()),
        (Some("interactive_taskcard"), Some("已处理"))
    );

    let update = |extra: Value| {
        let mut b = json!({ "agentid": 1000002, "task_id": "gift-1" });
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    let v = call(&s, "update_taskcard", &app, update(json!({ "userids": ["zhangsan", "wangwu"], "clicked_key": "approve" }))).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok", "invaliduser": ["wangwu"] }));
    assert_eq!(inbox(&s, "zhangsan").await[0]["card_update"], json!({ "clicked_key": "approve" }));
    assert_eq!(inbox(&s, "lisi").await[0]["card_update"], Value::Null);
    // Updated again, by replace_name this time (a task card has no single-use code).
    let v = call(&s, "update_taskcard", &app, update(json!({ "userids": ["ZhangSan", "lisi"], "replace_name": "已批准" }))).await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(inbox(&s, "zhangsan").await[0]["card_update"], json!({ "replace_name": "已批准" }));
    assert_eq!(inbox(&s, "lisi").await[0]["card_update"], json!({ "replace_name": "已批准" }));

    let err = |b: Value| {
        let (s, app) = (&s, app.clone());
        async move { code(&call(s, "update_taskcard", &app, b).await) }
    };
    assert_eq!(err(update(json!({ "userids": ["zhangsan"], "clicked_key": "maybe" }))).await, 42017);
    assert_eq!(err(update(json!({ "userids": ["zhangsan"], "clicked_key": "no way" }))).await, 42018);
    assert_eq!(err(update(json!({ "userids": ["zhangsan"] }))).await, 42019);
    assert_eq!(err(update(json!({ "userids": [], "replace_name": "x" }))).await, 82101);
    assert_eq!(err(update(json!({ "userids": ["wangwu"], "replace_name": "x" }))).await, 82102);
    assert_eq!(err(json!({ "agentid": 1000002, "task_id": "nope", "userids": ["zhangsan"], "replace_name": "x" })).await, 42016);
    assert_eq!(err(json!({ "agentid": 1000002, "userids": ["zhangsan"], "replace_name": "x" })).await, 42014);
    assert_eq!(err(update(json!({ "agentid": 1000003, "userids": ["zhangsan"], "replace_name": "x" }))).await, 301002);
    // Another app's task_id: 42015.
    let v = call(&s, "update_taskcard", &app2, update(json!({ "agentid": 1000003, "userids": ["zhangsan"], "replace_name": "x" }))).await;
    assert_eq!(code(&v), 42015, "{v}");
    assert_eq!(code(&call(&s, "update_taskcard", &legacy, update(json!({ "userids": ["zhangsan"], "replace_name": "x" }))).await), 48002);
}

async fn fan_out_to_everyone(db: &Db) {
    let s = Server::start(db, &[]).await;
    // 2,000 members in one department, seeded through the control API.
    let mut seed = String::from("[[corp]]\ncorpid = \"ww0123456789abcdef\"\nname = \"Test Corp\"\n");
    for i in 0..2000 {
        seed.push_str(&format!("[[corp.member]]\nuserid = \"m{i}\"\nname = \"M {i}\"\ndepartment = [3]\n"));
    }
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let app = s.token(CORPID, APP_SECRET).await;
    let v = send(&s, &app, text("@all", "everyone")).await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(inbox(&s, "m1999").await.len(), 1);
    assert_eq!(inbox(&s, "zhangsan").await.len(), 1);
    let (_, m) = s.get(&format!("/corps/{CORPID}/members/m0/inbox")).await;
    assert_eq!(m[0]["recipients"], 2003, "one message row counting every recipient");
    let (st, _) = s.get(&format!("/corps/{CORPID}/members/nobody/inbox")).await;
    assert_eq!(st, 404);
}

/// 2,000 more members in Sales, seeded through the control API.
async fn seed_members(s: &Server, n: usize) {
    let mut seed = String::from("[[corp]]\ncorpid = \"ww0123456789abcdef\"\nname = \"Test Corp\"\n");
    for i in 0..n {
        seed.push_str(&format!("[[corp.member]]\nuserid = \"m{i}\"\nname = \"M {i}\"\ndepartment = [3]\n"));
    }
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

async fn fanouts(s: &Server) -> Value {
    let (st, v) = s.get("/fanouts").await;
    assert_eq!(st, 200, "{v}");
    v
}

async fn pause_fanouts(s: &Server, paused: bool) {
    let (st, v) = s.control(reqwest::Method::PUT, "/fanouts", Some(json!({ "paused": paused }))).await;
    assert_eq!(st, 200, "{v}");
}

async fn at_all_answers_before_its_rows_exist(db: &Db) {
    let s = Server::start(db, &[]).await;
    seed_members(&s, 2000).await;
    pause_fanouts(&s, true).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let v = send(&s, &app, text("@all", "everyone")).await;
    assert_eq!(code(&v), 0, "{v}");
    let pending = fanouts(&s).await;
    assert_eq!(pending["paused"], true);
    assert_eq!(
        pending["pending"],
        json!([{ "corpid": CORPID, "msgid": v["msgid"], "agentid": 1000002, "recipients": 0 }]),
        "answered with no row written"
    );

    // A member who joins afterwards is not reached: the write finishes the fan-out first.
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let joined = s
        .api_post(
            &format!("user/create?access_token={sync}"),
            json!({ "userid": "late", "name": "Late", "department": [3], "mobile": "13900000009" }).to_string(),
        )
        .await;
    assert_eq!(joined["errcode"], 0, "{joined}");
    assert_eq!(fanouts(&s).await["pending"], json!([]));
    assert!(inbox(&s, "late").await.is_empty(), "joined after the @all");

    // Another @all, still paused: the inbox shows it at once, with every recipient counted.
    let v = send(&s, &app, text("@all", "again")).await;
    assert_eq!(fanouts(&s).await["pending"].as_array().unwrap().len(), 1);
    let got = inbox(&s, "m1999").await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["msgid"], v["msgid"]);
    assert_eq!(got[1]["recipients"], 2004);
    assert_eq!(inbox(&s, "late").await.len(), 1);
    assert_eq!(fanouts(&s).await["pending"], json!([]));

    // A single send of the same app waits for the pending @all before it: order in every inbox
    // is send order.
    send(&s, &app, text("@all", "third")).await;
    send(&s, &app, text("zhangsan", "after")).await;
    assert_eq!(fanouts(&s).await["pending"], json!([]), "the single send finished the @all");
    let got = inbox(&s, "zhangsan").await;
    let order: Vec<_> = got.iter().map(|m| m["content"]["content"].as_str().unwrap().to_string()).collect();
    assert_eq!(order, ["everyone", "again", "third", "after"]);

    // Resumed, the worker writes what is pending without anyone reading.
    send(&s, &app, text("@all", "fourth")).await;
    pause_fanouts(&s, false).await;
    let start = std::time::Instant::now();
    while !fanouts(&s).await["pending"].as_array().unwrap().is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the worker finished the fan-out");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn restart_mid_fanout_finishes_without_duplicates(db: &Db) {
    let s = Server::start(db, &["--fanout-batch", "10"]).await;
    seed_members(&s, 2000).await;
    pause_fanouts(&s, true).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let v = send(&s, &app, text("@all", "everyone")).await;
    assert_eq!(code(&v), 0, "{v}");
    pause_fanouts(&s, false).await;
    let start = std::time::Instant::now();
    loop {
        let p = fanouts(&s).await;
        if p["pending"][0]["recipients"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the worker started: {p}");
    }
    pause_fanouts(&s, true).await;
    let half = fanouts(&s).await["pending"][0]["recipients"].as_i64().expect("still pending after the pause");
    assert!(half > 0 && half < 2003, "caught half-way: {half}");
    s.kill().await;

    // The next start finishes it by itself, without duplicating the rows already written.
    let s = Server::start(db, &[]).await;
    let start = std::time::Instant::now();
    while !fanouts(&s).await["pending"].as_array().unwrap().is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "finished after the restart");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for u in ["zhangsan", "lisi", "wangwu", "m0", "m1000", "m1999"] {
        let got = inbox(&s, u).await;
        assert_eq!(got.len(), 1, "{u}: {got:?}");
        assert_eq!(got[0]["recipients"], 2003, "every member once, counted once");
    }
}

async fn recipient_throttles(db: &Db) {
    let s = Server::start(db, &[]).await;
    // Start at an hour's first second, so that 31 sends share one minute and 34 minutes one hour.
    let (_, clock) = s.get("/clock").await;
    s.advance(3600 - clock["now"].as_i64().unwrap().rem_euclid(3600)).await;
    let app = s.token(CORPID, APP_SECRET).await;
    for i in 0..31 {
        let v = send(&s, &app, text("zhangsan", &format!("n{i}"))).await;
        assert_eq!(code(&v), 0, "dropped silently: {v}");
        assert!(v.get("invaliduser").is_none(), "{v}");
    }
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got.len(), 30, "30 a minute from one app");
    assert_eq!(got[29]["content"]["content"], "n29");
    // Another app's messages count apart; an @all skips the member the app has used up.
    let rd = s.token(CORPID, APP2_SECRET).await;
    let mut other = text("zhangsan", "from 1000003");
    other["agentid"] = json!(1000003);
    assert_eq!(code(&send(&s, &rd, other).await), 0);
    send(&s, &app, text("@all", "all")).await;
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got.len(), 31);
    assert_eq!(got[30]["content"]["content"], "from 1000003");
    assert_eq!(inbox(&s, "lisi").await.last().unwrap()["content"]["content"], "all");
    assert_eq!(inbox(&s, "lisi").await.last().unwrap()["recipients"], 2, "zhangsan not counted");

    // The next minute takes 30 more, up to 1000 an hour.
    let mut delivered = 30;
    let mut minutes = 0;
    while delivered < 1000 {
        s.advance(60).await;
        minutes += 1;
        let app = s.token(CORPID, APP_SECRET).await;
        for i in 0..30.min(1000 - delivered) {
            send(&s, &app, text("zhangsan", &format!("m{minutes}-{i}"))).await;
            delivered += 1;
        }
    }
    assert!(minutes < 60, "still inside the hour");
    s.advance(60).await;
    let app = s.token(CORPID, APP_SECRET).await;
    send(&s, &app, text("zhangsan", "over the hour")).await;
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got.iter().filter(|m| m["agentid"] == 1000002).count(), 1000, "1000 an hour");
    assert_ne!(got.last().unwrap()["content"]["content"], "over the hour");
    // The next hour starts again.
    let (_, clock) = s.get("/clock").await;
    s.advance(3600 - clock["now"].as_i64().unwrap().rem_euclid(3600)).await;
    let app = s.token(CORPID, APP_SECRET).await;
    send(&s, &app, text("zhangsan", "next hour")).await;
    assert_eq!(inbox(&s, "zhangsan").await.last().unwrap()["content"]["content"], "next hour");
}

async fn appchat_throttle(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (_, clock) = s.get("/clock").await;
    s.advance(60 - clock["now"].as_i64().unwrap().rem_euclid(60)).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let v = s
        .api_post(&format!("appchat/create?access_token={app}"), json!({ "chatid": "busy", "userlist": ["zhangsan", "lisi"] }).to_string())
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    for i in 0..201 {
        let v = s
            .api_post(
                &format!("appchat/send?access_token={app}"),
                json!({ "chatid": "busy", "msgtype": "text", "text": { "content": format!("c{i}") } }).to_string(),
            )
            .await;
        assert_eq!(v["errcode"], 0, "{v}");
    }
    let got = inbox(&s, "lisi").await;
    assert_eq!(got.len(), 200, "200 a minute in chats");
    assert_eq!(got[199]["content"]["content"], "c199");
    let (_, log) = s.get(&format!("/corps/{CORPID}/appchats/busy/messages")).await;
    assert_eq!(log.as_array().unwrap().len(), 201, "the chat holds every message; members miss the excess");
    s.advance(60).await;
    let app = s.token(CORPID, APP_SECRET).await;
    s.api_post(
        &format!("appchat/send?access_token={app}"),
        json!({ "chatid": "busy", "msgtype": "text", "text": { "content": "later" } }).to_string(),
    )
    .await;
    assert_eq!(inbox(&s, "lisi").await.last().unwrap()["content"]["content"], "later");
}

async fn recipients_follow_department_and_tag_writes(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let to = |party: &str, tag: &str, content: &str| json!({ "toparty": party, "totag": tag, "msgtype": "text", "agentid": 1000002, "text": { "content": content } });
    // The directory is read (and kept) by this send.
    assert_eq!(code(&send(&s, &app, to("2", "", "warm")).await), 0);
    let v =
        s.api_post(&format!("department/create?access_token={sync}"), json!({ "name": "New", "parentid": 1, "id": 9 }).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let v = s
        .api_post(
            &format!("user/create?access_token={sync}"),
            json!({ "userid": "newbie", "name": "Newbie", "department": [9], "mobile": "13900000001" }).to_string(),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let v = send(&s, &app, to("9", "", "to new")).await;
    assert_eq!(code(&v), 0, "the new department is known at once: {v}");
    assert!(v.get("invalidparty").is_none(), "{v}");
    assert_eq!(inbox(&s, "newbie").await.len(), 1);

    // A tag's departments, changed after the directory was read.
    let v = s.api_post(&format!("tag/create?access_token={sync}"), json!({ "tagname": "Sales tag", "tagid": 5 }).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(code(&send(&s, &app, to("", "5", "empty tag")).await), 0);
    assert!(inbox(&s, "wangwu").await.is_empty());
    let v = s.api_post(&format!("tag/addtagusers?access_token={sync}"), json!({ "tagid": 5, "partylist": [3] }).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(code(&send(&s, &app, to("", "5", "tagged")).await), 0);
    assert_eq!(inbox(&s, "wangwu").await.last().unwrap()["content"]["content"], "tagged", "the tag's department counts at once");
    let v = s.api_post(&format!("tag/deltagusers?access_token={sync}"), json!({ "tagid": 5, "partylist": [3] }).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    send(&s, &app, to("", "5", "untagged")).await;
    assert_eq!(inbox(&s, "wangwu").await.len(), 1, "and stops counting at once");

    // A deleted department is invalid at once.
    assert_eq!(s.api(&format!("user/delete?access_token={sync}&userid=newbie")).await["errcode"], 0);
    assert_eq!(s.api(&format!("department/delete?access_token={sync}&id=9")).await["errcode"], 0);
    let v = send(&s, &app, to("9|2", "", "gone")).await;
    assert_eq!(v["invalidparty"], "9", "{v}");
}

on_both_backends!(
    at_all_answers_before_its_rows_exist,
    restart_mid_fanout_finishes_without_duplicates,
    recipient_throttles,
    appchat_throttle,
    recipients_follow_department_and_tag_writes,
    sends_and_delivers,
    visible_range_and_agentid,
    content_rules,
    legacy_dialect,
    recall_and_duplicates,
    template_cards,
    taskcards,
    fan_out_to_everyone
);
