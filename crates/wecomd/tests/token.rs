//! gettoken, token checks, getcallbackip and get_api_domain_ip over HTTP, in both dialects.

mod common;

use common::*;
use serde_json::{json, Value};

/// `<text>, hint: [<ts>_<n>_<hex32>], from ip: 127.0.0.1, more info at …?e=<code>`
fn assert_wecom_errmsg(v: &Value, code: i64, text: &str) {
    assert_eq!(v["errcode"], code, "{v}");
    let m = v["errmsg"].as_str().unwrap();
    let rest = m.strip_prefix(&format!("{text}, hint: [")).unwrap_or_else(|| panic!("errmsg {m:?}"));
    let (hint, rest) = rest.split_once("], from ip: ").unwrap();
    let parts: Vec<&str> = hint.split('_').collect();
    assert_eq!(parts.len(), 3, "{hint}");
    assert!(parts[0].parse::<i64>().is_ok() && parts[2].len() == 32, "{hint}");
    assert_eq!(rest, format!("127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e={code}"));
}

async fn tokens_carry_their_dialect(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await;
    assert_eq!(app["errcode"], 0);
    assert_eq!(app["errmsg"], "ok");
    assert_eq!(app["expires_in"], 7200);
    assert_eq!(app["access_token"].as_str().unwrap().len(), 214);
    assert_eq!(app.as_object().unwrap().len(), 4);

    let sync = s.api(&format!("gettoken?corpid={CORPID}&corpsecret={SYNC_SECRET}")).await;
    assert_eq!(sync["errcode"], 0);
    assert_eq!(sync["access_token"].as_str().unwrap().len(), 214);
    assert_ne!(sync["access_token"], app["access_token"], "each secret has its own token");

    let legacy = s.api(&format!("gettoken?corpid={CORPID}&corpsecret={GROUP_SECRET}")).await;
    let t = legacy["access_token"].as_str().unwrap();
    assert_eq!(t.len(), 64);
    assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(legacy, json!({ "access_token": t, "expires_in": 7200 }), "legacy success has no errcode/errmsg");
}

async fn same_token_while_valid_and_fetching_restarts_its_lifetime(db: &Db) {
    let s = Server::start(db, &[]).await;
    let first = s.token(CORPID, APP_SECRET).await;
    assert_eq!(s.token(CORPID, APP_SECRET).await, first);
    s.advance(7000).await;
    assert_eq!(s.token(CORPID, APP_SECRET).await, first, "still valid after 7000 s");
    s.advance(7000).await;
    // 14000 s after it was minted, but 7000 s after the last fetch restarted its 7200 s.
    assert_eq!(s.api(&format!("getcallbackip?access_token={first}")).await["errcode"], 0);
    s.advance(201).await;
    let v = s.api(&format!("getcallbackip?access_token={first}")).await;
    assert_wecom_errmsg(&v, 42001, "access_token expired");
    let second = s.token(CORPID, APP_SECRET).await;
    assert_ne!(second, first, "a new token after expiry");
    assert_eq!(s.api(&format!("getcallbackip?access_token={first}")).await["errcode"], 42001, "the old one stays expired");
}

async fn gettoken_errors_in_the_platform_order(db: &Db) {
    let s = Server::start(db, &[]).await;
    let cases = [
        ("gettoken", 41004, "corpsecret missing"),
        ("gettoken?corpid=ww0123456789abcdef", 41004, "corpsecret missing"),
        ("gettoken?corpid=ww0123456789abcdef&corpsecret=", 41004, "corpsecret missing"),
        ("gettoken?corpsecret=x", 41002, "corpid missing"),
        ("gettoken?corpid=&corpsecret=x", 41002, "corpid missing"),
        ("gettoken?corpid=nonsense&corpsecret=x", 40013, "invalid corpid"),
        ("gettoken?corpid=ww00000000000000ff&corpsecret=x", 40013, "invalid corpid"),
        ("gettoken?corpid=ww0123456789abcdef&corpsecret=wrong", 40001, "invalid credential"),
        ("gettoken?corpid=ww0123456789abcdef&corpsecret=bad%20secret", 40001, "invalid credential"),
    ];
    for (q, code, text) in cases {
        let v = s.api(q).await;
        assert_wecom_errmsg(&v, code, text);
        assert!(v.get("access_token").is_none(), "{q}: {v}");
    }
    // A secret of another corp does not open this one.
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={OTHER_SECRET}")).await["errcode"], 40001);
    assert_eq!(s.api(&format!("gettoken?corpid={OTHER_CORPID}&corpsecret={OTHER_SECRET}")).await["errcode"], 0);
}

async fn token_checks(db: &Db) {
    let s = Server::start(db, &[]).await;
    for path in ["getcallbackip", "get_api_domain_ip"] {
        let v = s.api(path).await;
        assert_wecom_errmsg(&v, 41001, "access_token missing");
        assert_eq!(v["ip_list"], json!([]), "error bodies keep the empty list");
        assert_eq!(s.api(&format!("{path}?access_token=")).await["errcode"], 41001);
        let v = s.api(&format!("{path}?access_token=not-a-token")).await;
        assert_wecom_errmsg(&v, 40014, "invalid access_token");
        assert_eq!(v["ip_list"], json!([]));
    }
    // Only the query string carries the token.
    let token = s.token(CORPID, APP_SECRET).await;
    let r = s.http().get(s.url("/cgi-bin/getcallbackip")).header("Authorization", format!("Bearer {token}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["errcode"], 41001);
    let r = s.http().post(s.url("/cgi-bin/getcallbackip")).body(json!({ "access_token": token }).to_string()).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["errcode"], 41001);
}

async fn ip_endpoints_in_both_dialects(db: &Db) {
    let s = Server::start(db, &["--callback-ips", "101.226.103.0,101.226.62.0"]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let v = s.api(&format!("getcallbackip?access_token={wecom}")).await;
    assert_eq!(v, json!({ "ip_list": ["101.226.103.0", "101.226.62.0"], "errcode": 0, "errmsg": "ok" }));
    let v = s.api(&format!("getcallbackip?access_token={legacy}")).await;
    assert_eq!(v, json!({ "ip_list": ["101.226.103.0", "101.226.62.0"] }), "legacy: no errcode on success");
    let v = s.api(&format!("get_api_domain_ip?access_token={wecom}")).await;
    assert_eq!(v, json!({ "ip_list": ["127.0.0.1"], "errcode": 0, "errmsg": "ok" }));
    let v = s.api(&format!("get_api_domain_ip?access_token={legacy}")).await;
    assert_eq!(v, json!({ "ip_list": ["127.0.0.1"] }));
    // The contacts-sync token may call them too.
    let sync = s.token(CORPID, SYNC_SECRET).await;
    assert_eq!(s.api(&format!("getcallbackip?access_token={sync}")).await["errcode"], 0);
}

async fn expired_tokens_answer_42001_in_each_dialect(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    s.advance(7199).await;
    assert_eq!(s.api(&format!("getcallbackip?access_token={legacy}")).await["ip_list"], json!(["127.0.0.1"]));
    s.advance(1).await;
    assert_wecom_errmsg(&s.api(&format!("getcallbackip?access_token={wecom}")).await, 42001, "access_token expired");
    let v = s.api(&format!("getcallbackip?access_token={legacy}")).await;
    assert_eq!(v, json!({ "ip_list": [], "errcode": 42001, "errmsg": "access_token expired" }), "legacy errors are bare");
    let (_, clock) = s.get("/clock").await;
    assert_eq!(clock["offset"], 7200);
}

async fn regenerating_a_secret_invalidates_its_tokens_at_once(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let app2 = s.token(CORPID, APP2_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    // Use them so they are cached.
    for t in [&app, &app2, &legacy] {
        assert!(s.api(&format!("getcallbackip?access_token={t}")).await.get("ip_list").is_some());
    }
    let (st, v) = s.post(&format!("/corps/{CORPID}/secrets/app:1000002/regenerate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let new_secret = v["secret"].as_str().unwrap().to_string();
    assert_eq!(new_secret.len(), 43);
    assert_wecom_errmsg(&s.api(&format!("getcallbackip?access_token={app}")).await, 40014, "invalid access_token");
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 40001);
    let fresh = s.token(CORPID, &new_secret).await;
    assert_ne!(fresh, app);
    assert_eq!(s.api(&format!("getcallbackip?access_token={fresh}")).await["errcode"], 0);
    assert_eq!(s.api(&format!("getcallbackip?access_token={app2}")).await["errcode"], 0, "other apps' tokens are untouched");

    let (st, v) = s.post(&format!("/corps/{CORPID}/secrets/group:1/regenerate"), json!({})).await;
    assert_eq!(st, 200);
    let v2 = s.api(&format!("getcallbackip?access_token={legacy}")).await;
    assert_eq!(v2["errcode"], 40014, "{v2}");
    assert_eq!(s.token(CORPID, v["secret"].as_str().unwrap()).await.len(), 64);

    let (st, _) = s.post(&format!("/corps/{CORPID}/secrets/app:999/regenerate"), json!({})).await;
    assert_eq!(st, 404);
    let (st, _) = s.post(&format!("/corps/{CORPID}/secrets/robot:1/regenerate"), json!({})).await;
    assert_eq!(st, 404);
}

async fn trusted_ips_refuse_other_callers(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let path = format!("/corps/{CORPID}/secrets/app:1000002/trusted_ips");
    let put = |ips: Value| s.control(reqwest::Method::PUT, &path, Some(json!({ "trusted_ips": ips })));
    let (st, _) = put(json!(["10.0.0.0/8"])).await;
    assert_eq!(st, 200);
    assert_wecom_errmsg(&s.api(&format!("getcallbackip?access_token={token}")).await, 60020, "not allow to access from your ip");
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 60020);
    assert_eq!(s.token(CORPID, APP2_SECRET).await.len(), 214, "other apps are not restricted");
    let (st, _) = put(json!(["10.0.0.0/8", "127.0.0.1"])).await;
    assert_eq!(st, 200);
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0);
    let (st, _) = put(json!(["not an ip"])).await;
    assert_eq!(st, 400);
    let (st, _) =
        s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/secrets/group:1/trusted_ips"), Some(json!({ "trusted_ips": [] }))).await;
    assert_eq!(st, 400, "企业号 groups have no trusted IPs");
}

async fn unknown_paths_are_404_with_an_empty_body(db: &Db) {
    let s = Server::start(db, &[]).await;
    for path in ["/cgi-bin/nope", "/cgi-bin/", "/cgi-bin/gettoken/extra", "/", "/cgi-bin/user/nonexistent?access_token=x"] {
        let r = s.http().get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.bytes().await.unwrap().is_empty(), "{path}");
    }
}

on_both_backends!(
    tokens_carry_their_dialect,
    same_token_while_valid_and_fetching_restarts_its_lifetime,
    gettoken_errors_in_the_platform_order,
    token_checks,
    ip_endpoints_in_both_dialects,
    expired_tokens_answer_42001_in_each_dialect,
    regenerating_a_secret_invalidates_its_tokens_at_once,
    trusted_ips_refuse_other_callers,
    unknown_paths_are_404_with_an_empty_body,
);

#[tokio::test]
async fn token_length_is_configurable_up_to_512() {
    let db = Db::new(Backend::Sqlite).await;
    let s = Server::start(&db, &["--token-length", "512"]).await;
    assert_eq!(s.token(CORPID, APP_SECRET).await.len(), 512);
    assert_eq!(s.token(CORPID, GROUP_SECRET).await.len(), 64, "legacy stays 64");
}
