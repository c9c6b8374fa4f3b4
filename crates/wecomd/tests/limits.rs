//! Frequency limits (45009), the concurrency limit (45033) and fault injection. The counters are
//! in memory, the same whatever the backend, so these run on SQLite only.

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;

async fn server(extra: &[&str]) -> (Db, Server) {
    let db = Db::new(Backend::Sqlite).await;
    let s = Server::start(&db, extra).await;
    (db, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_secrets_bans_the_ip_from_gettoken_for_an_hour() {
    let (_db, s) = server(&[]).await;
    for i in 0..20 {
        assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret=guess{i}")).await["errcode"], 40001);
    }
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret=guess21")).await["errcode"], 40001, "the 21st counts and bans");
    let v = s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await;
    assert_eq!(v["errcode"], 45009, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("api freq out of limit, hint: ["));
    s.advance(3599).await;
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 45009);
    s.advance(2).await;
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rate_limits_turns_the_ban_off() {
    let (_db, s) = server(&["--no-rate-limits"]).await;
    for i in 0..30 {
        assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret=guess{i}")).await["errcode"], 40001);
    }
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_of_one_api_per_corp_per_minute() {
    let (_db, s) = server(&[]).await;
    // Start at the top of a minute of wecomd's clock so the window does not roll over mid-test.
    let (_, clock) = s.get("/clock").await;
    let now = clock["now"].as_i64().unwrap();
    s.advance(60 - now.rem_euclid(60)).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let s = Arc::new(s);
    let mut tasks = vec![];
    for _ in 0..8 {
        let (s, token) = (s.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for _ in 0..1250 {
                if s.api(&format!("getcallbackip?access_token={token}")).await["errcode"] == 0 {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap();
    }
    assert_eq!(ok, 10_000, "all of the first 10,000 pass");
    let v = s.api(&format!("getcallbackip?access_token={token}")).await;
    assert_eq!(v["errcode"], 45009, "{v}");
    assert_eq!(v["ip_list"], json!([]));
    // Another API of the same corp has its own count.
    assert_eq!(s.api(&format!("get_api_domain_ip?access_token={token}")).await["errcode"], 0);
    // Another corp is not affected.
    let other = s.token(OTHER_CORPID, OTHER_SECRET).await;
    assert_eq!(s.api(&format!("getcallbackip?access_token={other}")).await["errcode"], 0);
    // Blocked for 60 s from the excess.
    s.advance(61).await;
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_allows_five_calls_a_minute() {
    let (_db, s) = server(&[]).await;
    let (_, clock) = s.get("/clock").await;
    s.advance(60 - clock["now"].as_i64().unwrap().rem_euclid(60)).await;
    let token = s.token(CORPID, APP_SECRET).await;
    for _ in 0..5 {
        assert_eq!(s.api(&format!("getcallbackip?access_token={token}&debug=1")).await["errcode"], 0);
    }
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}&debug=1")).await["errcode"], 45009);
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0, "without debug=1 the call passes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_calls_in_progress_answer_45033() {
    let (_db, s) = server(&["--api-concurrency", "2"]).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let (st, _) = s.post("/faults", json!({ "path": "getcallbackip", "delay_ms": 1500, "count": 2 })).await;
    assert_eq!(st, 201);
    let s = Arc::new(s);
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let (s, token) = (s.clone(), token.clone());
            tokio::spawn(async move { s.api(&format!("getcallbackip?access_token={token}")).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let v = s.api(&format!("getcallbackip?access_token={token}")).await;
    assert_eq!(v["errcode"], 45033, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("api concurrent out of limit"));
    assert_eq!(s.api(&format!("get_api_domain_ip?access_token={token}")).await["errcode"], 0, "other APIs are free");
    for t in slow {
        assert_eq!(t.await.unwrap()["errcode"], 0);
    }
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0, "slots are given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_errcodes_apply_to_the_next_n_calls() {
    let (_db, s) = server(&[]).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let (st, _) = s.post("/faults", json!({ "path": "getcallbackip", "errcode": -1, "count": 2 })).await;
    assert_eq!(st, 201);
    let v = s.api(&format!("get_api_domain_ip?access_token={token}")).await;
    assert_eq!(v["errcode"], 0, "other paths are untouched");
    let v = s.api(&format!("getcallbackip?access_token={token}")).await;
    assert_eq!(v["errcode"], -1);
    assert_eq!(v["ip_list"], json!([]));
    let v = s.api(&format!("getcallbackip?access_token={legacy}")).await;
    assert_eq!(v, json!({ "errcode": -1, "errmsg": "injected fault", "ip_list": [] }));
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0, "used up");

    let (st, _) = s.post("/faults", json!({ "errcode": 45009, "count": 1 })).await;
    assert_eq!(st, 201);
    let (_, pending) = s.get("/faults").await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(s.api(&format!("get_api_domain_ip?access_token={token}")).await["errcode"], 45009, "no path: any API");
    let (st, _) = s.post("/faults", json!({ "path": "nope", "errcode": 1, "count": 1 })).await;
    assert_eq!(st, 400);
    let (st, _) = s.post("/faults", json!({ "errcode": 1, "count": 0 })).await;
    assert_eq!(st, 400);
    let (st, _) = s.post("/faults", json!({ "errcode": 40001, "count": 5 })).await;
    assert_eq!(st, 201);
    let (st, _) = s.control(reqwest::Method::DELETE, "/faults", None).await;
    assert_eq!(st, 204);
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0);
}
