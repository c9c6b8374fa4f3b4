//! user/convert_to_openid and user/convert_to_userid over HTTP: both dialects on one corp, the
//! visible-range rules, and the JSON body rules every POST endpoint shares.

mod common;

use common::*;
use serde_json::{json, Value};

async fn to_openid(s: &Server, token: &str, body: Value) -> Value {
    s.api_post(&format!("user/convert_to_openid?access_token={token}"), body.to_string()).await
}

async fn to_userid(s: &Server, token: &str, openid: &str) -> Value {
    s.api_post(&format!("user/convert_to_userid?access_token={token}"), json!({ "openid": openid }).to_string()).await
}

async fn openids_round_trip_in_both_dialects(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;

    let v = to_openid(&s, &wecom, json!({ "userid": "zhangsan" })).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(v["errmsg"], "ok");
    let openid = v["openid"].as_str().unwrap().to_string();
    assert!(openid.starts_with('o') && openid.len() == 28, "{openid}");
    assert!(v.get("appid").is_none());
    assert_eq!(to_openid(&s, &wecom, json!({ "userid": "ZhangSan" })).await["openid"], openid.as_str(), "userids ignore case");
    assert_eq!(to_openid(&s, &wecom, json!({ "userid": "zhangsan", "agentid": 1000002 })).await, v, "WeCom ignores agentid");
    assert_eq!(to_userid(&s, &wecom, &openid).await, json!({ "errcode": 0, "errmsg": "ok", "userid": "zhangsan" }));

    // The legacy client sees the same member through the same corp-level openid…
    let l = to_openid(&s, &legacy, json!({ "userid": "zhangsan" })).await;
    assert_eq!(l, json!({ "errcode": 0, "errmsg": "ok", "openid": openid }), "legacy conversions carry errcode");
    // …and, with an agentid, a per-app openid and that app's appid.
    let per_app = to_openid(&s, &legacy, json!({ "userid": "zhangsan", "agentid": 1000002 })).await;
    assert_eq!(per_app["errcode"], 0, "{per_app}");
    let app_openid = per_app["openid"].as_str().unwrap();
    assert_ne!(app_openid, openid);
    let appid = per_app["appid"].as_str().unwrap();
    assert!(appid.starts_with("wx") && appid.len() == 18, "{appid}");
    assert_eq!(to_openid(&s, &legacy, json!({ "userid": "zhangsan", "agentid": 1000002 })).await, per_app, "stable");
    assert_eq!(to_userid(&s, &legacy, app_openid).await["userid"], "zhangsan");
    assert_eq!(to_userid(&s, &wecom, app_openid).await["userid"], "zhangsan");
    // The openids persist across a restart.
    drop(s);
    let s = Server::start(db, &[]).await;
    assert_eq!(to_openid(&s, &wecom, json!({ "userid": "zhangsan" })).await["openid"], openid.as_str());
}

async fn visible_ranges_and_member_errors(db: &Db) {
    let s = Server::start(db, &[]).await;
    let all = s.token(CORPID, APP_SECRET).await;
    let rnd = s.token(CORPID, APP2_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy_all = s.token(CORPID, GROUP_SECRET).await;
    let legacy_rnd = s.token(CORPID, GROUP2_SECRET).await;

    let wangwu = to_openid(&s, &all, json!({ "userid": "wangwu" })).await;
    assert_eq!(wangwu["errcode"], 0);
    let v = to_openid(&s, &rnd, json!({ "userid": "wangwu" })).await;
    assert_eq!(v["errcode"], 60011, "app 1000003 sees only R&D: {v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("no privilege to access/modify contact/party/agent, hint: ["));
    assert_eq!(to_userid(&s, &rnd, wangwu["openid"].as_str().unwrap()).await["errcode"], 60011);
    assert_eq!(to_openid(&s, &rnd, json!({ "userid": "zhangsan" })).await["errcode"], 0);
    assert_eq!(to_openid(&s, &sync, json!({ "userid": "wangwu" })).await["errcode"], 0, "contacts sync sees all");

    let v = to_openid(&s, &legacy_rnd, json!({ "userid": "wangwu" })).await;
    assert_eq!(v, json!({ "errcode": 60011, "errmsg": "no privilege to access/modify contact/party/agent" }), "legacy errmsg is bare");
    assert_eq!(to_openid(&s, &legacy_rnd, json!({ "userid": "zhangsan" })).await["errcode"], 0);
    let v = to_openid(&s, &legacy_rnd, json!({ "userid": "zhangsan", "agentid": 1000003 })).await;
    assert_eq!(v["errcode"], 0, "group 2 uses 1000003, which sees R&D: {v}");
    assert_eq!(
        to_openid(&s, &legacy_rnd, json!({ "userid": "zhangsan", "agentid": 1000002 })).await["errcode"],
        60011,
        "no right on 1000002"
    );
    assert_eq!(
        to_openid(&s, &legacy_all, json!({ "userid": "zhangsan", "agentid": 1000003 })).await["errcode"],
        60011,
        "group 1 has no right on 1000003"
    );
    assert_eq!(to_openid(&s, &legacy_all, json!({ "userid": "wangwu", "agentid": 4242 })).await["errcode"], 40056);
    assert_eq!(to_openid(&s, &legacy_all, json!({ "userid": "zhangsan", "agentid": 1000002 })).await["errcode"], 0);

    let v = to_openid(&s, &all, json!({ "userid": "lisi" })).await;
    assert_eq!(v["errcode"], 43004, "lisi never logged in: {v}");
    let v = to_openid(&s, &all, json!({ "userid": "nobody" })).await;
    assert_eq!(v["errcode"], 60111);
    assert!(v["errmsg"].as_str().unwrap().starts_with("userid not found, hint: ["));
    for body in [json!({}), json!({ "userid": "" })] {
        let v = to_openid(&s, &all, body).await;
        assert_eq!(v["errcode"], 41009, "{v}");
    }
    for openid in ["", "onot-an-openid-xxxxxxxxxxxxx"] {
        assert_eq!(to_userid(&s, &all, openid).await["errcode"], 40073);
    }
    assert_eq!(s.api_post(&format!("user/convert_to_userid?access_token={all}"), "{}").await["errcode"], 40073);
}

async fn json_bodies_per_dialect(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let post = |token: &str, body: Vec<u8>| {
        let path = format!("user/convert_to_openid?access_token={token}");
        let s = &s;
        async move { s.api_post(&path, body).await }
    };
    // Any Content-Type, or none, is read as JSON.
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/json"] {
        let r = s
            .http()
            .post(s.url(&format!("/cgi-bin/user/convert_to_openid?access_token={wecom}")))
            .header("content-type", ct)
            .body(r#"{"userid":"zhangsan"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["errcode"], 0, "{ct}");
    }
    assert_eq!(
        post(&wecom, br#"{"userid":"\u007a\u0068\u0061\u006e\u0067\u0073\u0061\u006e"}"#.to_vec()).await["errcode"],
        0,
        "\\u escapes are read"
    );

    let cases: [(&[u8], i64, i64); 5] = [
        (b"", 40058, 44002),
        (b"{\"userid\":", 40058, 47001),
        (b"{\"userid\": 123}", 40058, 47001),
        (b"[\"zhangsan\"]", 40058, 47001),
        (b"\xff\xfe{}", 40058, 47001),
    ];
    for (body, wecom_code, legacy_code) in cases {
        let v = post(&wecom, body.to_vec()).await;
        assert_eq!(v["errcode"], wecom_code, "{:?}: {v}", String::from_utf8_lossy(body));
        if wecom_code == 40058 {
            assert!(v["errmsg"].as_str().unwrap().starts_with("invalid Request Parameter"), "{v}");
        }
        let v = post(&legacy, body.to_vec()).await;
        assert_eq!(v["errcode"], legacy_code, "legacy {:?}: {v}", String::from_utf8_lossy(body));
    }
    // Over 2 MiB.
    let big = format!("{{\"userid\":\"zhangsan\",\"pad\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let v = post(&wecom, big.into_bytes()).await;
    assert_eq!(v["errcode"], 40206, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("request body too large, hint: ["));
    // The token is judged before the body.
    assert_eq!(post("not-a-token", b"{oops".to_vec()).await["errcode"], 40014);
    assert_eq!(s.api_post("user/convert_to_openid", "{oops").await["errcode"], 41001);
    // The server is still fine.
    assert_eq!(post(&wecom, br#"{"userid":"zhangsan"}"#.to_vec()).await["errcode"], 0);
}

on_both_backends!(openids_round_trip_in_both_dialects, visible_ranges_and_member_errors, json_bodies_per_dialect);
