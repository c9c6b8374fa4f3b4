//! appchat/create, update, get, send over HTTP: WeCom only, from self-built apps that see the
//! root department; chats belong to the app that made them; messages land in the chat's log and
//! every member's inbox.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post(s: &Server, path: &str, token: &str, body: Value) -> Value {
    s.api_post(&format!("appchat/{path}?access_token={token}"), body.to_string()).await
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

async fn lifecycle(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let v =
        post(&s, "create", &app, json!({ "name": "Ops", "owner": "LiSi", "userlist": ["zhangsan", "LISI", "wangwu"], "chatid": "ops1" }))
            .await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok", "chatid": "ops1" }));
    let v = s.api(&format!("appchat/get?access_token={app}&chatid=ops1")).await;
    assert_eq!(
        v["chat_info"],
        json!({ "chatid": "ops1", "name": "Ops", "owner": "lisi", "userlist": ["zhangsan", "lisi", "wangwu"], "chat_type": 0 }),
        "userids as stored"
    );

    let v = post(&s, "update", &app, json!({ "chatid": "ops1", "name": "Ops 2", "owner": "zhangsan", "del_user_list": ["lisi"] })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    let info = &s.api(&format!("appchat/get?access_token={app}&chatid=ops1")).await["chat_info"];
    assert_eq!(
        (info["name"].clone(), info["owner"].clone(), info["userlist"].clone()),
        (json!("Ops 2"), json!("zhangsan"), json!(["zhangsan", "wangwu"]))
    );

    let v = post(&s, "send", &app, json!({ "chatid": "ops1", "msgtype": "text", "text": { "content": "standup" }, "safe": 0 })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    let (st, log) = s.get(&format!("/corps/{CORPID}/appchats/ops1/messages")).await;
    assert_eq!(st, 200);
    assert_eq!(log[0]["content"], json!({ "content": "standup" }));
    assert_eq!(log[0]["chatid"], "ops1");
    let (_, inbox) = s.get(&format!("/corps/{CORPID}/members/wangwu/inbox")).await;
    assert_eq!(inbox[0]["chatid"], "ops1", "each member's inbox has it");
    let (_, inbox) = s.get(&format!("/corps/{CORPID}/members/lisi/inbox")).await;
    assert_eq!(inbox, json!([]), "a member who left does not");
    let (st, _) = s.get(&format!("/corps/{CORPID}/appchats/nope/messages")).await;
    assert_eq!(st, 404);

    // Content rules are message/send's; appchat takes its own msgtypes.
    let v = post(&s, "send", &app, json!({ "chatid": "ops1", "msgtype": "text", "text": { "content": "" } })).await;
    assert_eq!(code(&v), 44004);
    let v = post(&s, "send", &app, json!({ "chatid": "ops1", "msgtype": "template_card", "template_card": {} })).await;
    assert_eq!(code(&v), 40008);
    let v = post(&s, "send", &app, json!({ "chatid": "ops1", "msgtype": "markdown", "markdown": { "content": "**x**" } })).await;
    assert_eq!(code(&v), 0);
}

async fn create_rules(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let two = json!(["zhangsan", "lisi"]);
    let cases = [
        (json!({}), 86204),
        (json!({ "userlist": ["zhangsan"] }), 86006),
        (json!({ "userlist": ["zhangsan", "ghost"] }), 86007),
        (json!({ "userlist": two, "owner": "wangwu" }), 86207),
        (json!({ "userlist": two, "chatid": "bad-id" }), 86001),
        (json!({ "userlist": two, "chatid": "a".repeat(33) }), 86205),
        (json!({ "userlist": two, "chatid": "99999999999999999999" }), 86206),
    ];
    for (body, expected) in cases {
        let v = post(&s, "create", &app, body.clone()).await;
        assert_eq!(code(&v), expected, "{body} → {v}");
    }
    let v = post(&s, "create", &app, json!({ "userlist": two, "name": "名".repeat(60) })).await;
    assert_eq!(code(&v), 0, "{v}");
    let chatid = v["chatid"].as_str().unwrap().to_string();
    assert_eq!(chatid.len(), 32, "a generated chatid");
    let info = &s.api(&format!("appchat/get?access_token={app}&chatid={chatid}")).await["chat_info"];
    assert_eq!(info["name"].as_str().unwrap().chars().count(), 50, "long names are cut");
    assert_eq!(info["owner"], "zhangsan", "without an owner the first member owns the chat");
    let v = post(&s, "create", &app, json!({ "userlist": two, "chatid": chatid })).await;
    assert_eq!(code(&v), 86215);

    let cases = [
        (json!({ "name": "x" }), 86201),
        (json!({ "chatid": "nope" }), 86003),
        (json!({ "chatid": chatid, "add_user_list": ["ghost"] }), 86216),
        (json!({ "chatid": chatid, "add_user_list": ["lisi"] }), 86216),
        (json!({ "chatid": chatid, "del_user_list": ["wangwu"] }), 86216),
        (json!({ "chatid": chatid, "del_user_list": ["lisi"] }), 86006),
        (json!({ "chatid": chatid, "owner": "wangwu" }), 86207),
    ];
    for (body, expected) in cases {
        let v = post(&s, "update", &app, body.clone()).await;
        assert_eq!(code(&v), expected, "{body} → {v}");
    }
    assert_eq!(code(&s.api(&format!("appchat/get?access_token={app}&chatid=nope")).await), 86003);
    assert_eq!(code(&s.api(&format!("appchat/get?access_token={app}")).await), 86201);
}

async fn who_may_use_it(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let chatid = post(&s, "create", &app, json!({ "userlist": ["zhangsan", "lisi"] })).await["chatid"].as_str().unwrap().to_string();

    // 1000003 sees R&D, not the root: no appchat at all.
    let rd = s.token(CORPID, APP2_SECRET).await;
    assert_eq!(code(&post(&s, "create", &rd, json!({ "userlist": ["zhangsan", "lisi"] })).await), 48002);
    let sync = s.token(CORPID, SYNC_SECRET).await;
    assert_eq!(code(&post(&s, "create", &sync, json!({ "userlist": ["zhangsan", "lisi"] })).await), 48002);
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let v = post(&s, "create", &legacy, json!({ "userlist": ["zhangsan", "lisi"] })).await;
    assert_eq!(v, json!({ "errcode": 48002, "errmsg": "api forbidden" }), "appchat is WeCom only");

    // Another root-visible app may not touch this app's chat.
    let (st, other) = s.post(&format!("/corps/{CORPID}/apps"), json!({ "name": "Other", "allow_parties": [1] })).await;
    assert_eq!(st, 201, "{other}");
    let other = s.token(CORPID, other["secret"].as_str().unwrap()).await;
    assert_eq!(code(&s.api(&format!("appchat/get?access_token={other}&chatid={chatid}")).await), 86008);
    assert_eq!(code(&post(&s, "send", &other, json!({ "chatid": chatid, "msgtype": "text", "text": { "content": "x" } })).await), 86008);
    assert_eq!(code(&post(&s, "update", &other, json!({ "chatid": chatid, "name": "mine" })).await), 86008);
}

/// appchat/create: 1,000 a day per corp, racing creates included; 45009 beyond, until the next day
/// (midnight in China) by wecomd's clock. Refused creates do not count.
async fn a_thousand_creates_a_day(db: &Db) {
    let s = std::sync::Arc::new(Server::start(db, &[]).await);
    // Start a minute into a day, so the day cannot turn during the test. Tokens last 2 hours, so
    // one is fetched after each move of the clock.
    let now = s.get("/clock").await.1["now"].as_i64().unwrap();
    let day = 86_400;
    let next_midnight = now - (now + 8 * 3600).rem_euclid(day) + day;
    s.advance(next_midnight + 60 - now).await;
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(code(&post(&s, "create", &app, json!({ "userlist": ["zhangsan"] })).await), 86006, "a refusal");

    let mut codes = creates(&s, &app, 1010).await;
    codes.sort_unstable();
    assert_eq!((codes.iter().filter(|c| **c == 0).count(), codes[1000..].to_vec()), (1000, vec![45009; 10]));
    let v = post(&s, "create", &app, json!({ "userlist": ["zhangsan", "lisi"] })).await;
    assert_eq!(code(&v), 45009);
    assert!(v["errmsg"].as_str().unwrap().starts_with("api freq out of limit, hint: ["), "{v}");

    s.advance(day - 120).await;
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(code(&post(&s, "create", &app, json!({ "userlist": ["zhangsan", "lisi"] })).await), 45009, "still the same day");
    s.advance(61).await;
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(code(&post(&s, "create", &app, json!({ "userlist": ["zhangsan", "lisi"], "chatid": "tomorrow" })).await), 0, "a new day");
    assert_eq!(code(&s.api(&format!("appchat/get?access_token={app}&chatid=tomorrow")).await), 0);
}

/// `--no-rate-limits` lifts the daily limit with the other frequency limits.
async fn no_daily_limit_without_rate_limits(db: &Db) {
    let s = std::sync::Arc::new(Server::start(db, &["--no-rate-limits"]).await);
    let app = s.token(CORPID, APP_SECRET).await;
    assert!(creates(&s, &app, 1001).await.iter().all(|c| *c == 0));
}

/// `n` appchat/create calls from 8 racing clients (within the concurrency limit); their errcodes.
async fn creates(s: &std::sync::Arc<Server>, app: &str, n: usize) -> Vec<i64> {
    let mut clients = tokio::task::JoinSet::new();
    for first in 0..8 {
        let (s, app) = (s.clone(), app.to_string());
        clients.spawn(async move {
            let mut codes = Vec::new();
            for i in (first..n).step_by(8) {
                let body = json!({ "userlist": ["zhangsan", "lisi"], "chatid": format!("c{i}") });
                codes.push(code(&post(&s, "create", &app, body).await));
            }
            codes
        });
    }
    clients.join_all().await.concat()
}

on_both_backends!(lifecycle, create_rules, who_may_use_it, a_thousand_creates_a_day, no_daily_limit_without_rate_limits);
