//! Two wecomd processes on one PostgreSQL behave as one server.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// Polls `check` for up to 2 s: notices between instances travel through PostgreSQL.
async fn within_notice_delay<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if check().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{what}: not seen by the other instance within 2 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_are_one_server() {
    if !postgres_available().await {
        return;
    }
    let db = Db::new(Backend::Postgres).await;
    let a = Server::start(&db, &[]).await;
    let b = Server::start(&db, &[]).await;

    // A token minted by one works on the other, and both hand out the same live token.
    let token = a.token(CORPID, APP_SECRET).await;
    assert_eq!(b.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0);
    assert_eq!(b.token(CORPID, APP_SECRET).await, token);
    let legacy = b.token(CORPID, GROUP_SECRET).await;
    assert_eq!(a.api(&format!("getcallbackip?access_token={legacy}")).await["ip_list"], json!(["127.0.0.1"]));

    // A write through one is read through the other.
    let (st, app) = a.post(&format!("/corps/{CORPID}/apps"), json!({ "name": "Made on A" })).await;
    assert_eq!(st, 201);
    let (_, corp) = b.get(&format!("/corps/{CORPID}")).await;
    assert!(corp["apps"].as_array().unwrap().iter().any(|x| x["agentid"] == app["agentid"]));
    assert_eq!(b.token(CORPID, app["secret"].as_str().unwrap()).await.len(), 214);

    // Regenerating a secret on A stops its tokens on B, which had them cached.
    let (_, v) = a.post(&format!("/corps/{CORPID}/secrets/app:1000002/regenerate"), json!({})).await;
    let took =
        within_notice_delay("revoked token", || async { b.api(&format!("getcallbackip?access_token={token}")).await["errcode"] == 40014 })
            .await;
    eprintln!("revocation reached the other instance in {took:?}");
    assert_eq!(b.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 40001);
    let fresh = b.token(CORPID, v["secret"].as_str().unwrap()).await;

    // Moving the clock on B expires tokens on A.
    assert_eq!(a.api(&format!("getcallbackip?access_token={fresh}")).await["errcode"], 0);
    b.advance(7200).await;
    within_notice_delay("clock", || async { a.api(&format!("getcallbackip?access_token={fresh}")).await["errcode"] == 42001 }).await;
    let (_, clock) = a.get("/clock").await;
    assert_eq!(clock["offset"], 7200);

    // Concurrent gettoken on both after expiry agree on one new token.
    let (ta, tb) = tokio::join!(a.token(CORPID, APP2_SECRET), b.token(CORPID, APP2_SECRET));
    assert_eq!(ta, tb);

    // A reset on A is a reset for B.
    let (st, _) = a.post("/reset", json!({})).await;
    assert_eq!(st, 200);
    within_notice_delay("reset", || async { b.api(&format!("getcallbackip?access_token={ta}")).await["errcode"] == 40014 }).await;
    let (_, corps) = b.get("/corps").await;
    assert_eq!(corps, json!([]));
    drop((a, b));
    db.drop_db().await;
}

/// A database that goes away answers -1 `system busy` with HTTP 200, never an HTTP error, and
/// wecomd recovers when it comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_answers_system_busy() {
    if !postgres_available().await {
        return;
    }
    let db = Db::new(Backend::Postgres).await;
    let s = Server::start(&db, &[]).await;
    let token = s.token(CORPID, APP_SECRET).await;
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0);
    db.set_reachable(false).await;
    // Not cached yet, so these need the database.
    let v = s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP2_SECRET}")).await;
    assert_eq!(v["errcode"], -1, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("system busy, hint: ["), "{v}");
    let v = s.api_post(&format!("user/convert_to_openid?access_token={token}"), r#"{"userid":"zhangsan"}"#).await;
    assert_eq!(v["errcode"], -1, "{v}");
    // A token already in use still answers what needs no database.
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 0);
    db.set_reachable(true).await;
    assert_eq!(s.token(CORPID, APP2_SECRET).await.len(), 214, "recovered");
    drop(s);
    db.drop_db().await;
}

/// The directory one instance keeps for message/send follows department and tag writes made on
/// another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_recipients_follow_writes_on_another_instance() {
    if !postgres_available().await {
        return;
    }
    let db = Db::new(Backend::Postgres).await;
    let a = Server::start(&db, &[]).await;
    let b = Server::start(&db, &[]).await;
    let sync = a.token(CORPID, SYNC_SECRET).await;
    let app = b.token(CORPID, APP_SECRET).await;
    let send = |party: &'static str, tag: &'static str| {
        let (b, app) = (&b, app.clone());
        async move {
            let body = json!({ "toparty": party, "totag": tag, "msgtype": "text", "agentid": 1000002, "text": { "content": "x" } });
            b.api_post(&format!("message/send?access_token={app}"), body.to_string()).await
        }
    };
    // B reads and keeps the directory.
    assert_eq!(send("2", "").await["errcode"], 0);
    assert_eq!(send("9", "").await["errcode"], 81013);

    let v =
        a.api_post(&format!("department/create?access_token={sync}"), json!({ "name": "New", "parentid": 1, "id": 9 }).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let v = a
        .api_post(
            &format!("user/create?access_token={sync}"),
            json!({ "userid": "newbie", "name": "N", "department": [9], "mobile": "13900000001" }).to_string(),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let took = within_notice_delay("new department", || async { send("9", "").await["errcode"] == 0 }).await;
    eprintln!("a department made on A reached B's directory in {took:?}");

    let v = a.api_post(&format!("tag/create?access_token={sync}"), json!({ "tagname": "T", "tagid": 5 }).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    within_notice_delay("new tag", || async { send("", "5").await["errcode"] == 0 }).await;
    let v = a.api_post(&format!("tag/addtagusers?access_token={sync}"), json!({ "tagid": 5, "partylist": [3] }).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    within_notice_delay("tag departments", || async {
        send("", "5").await;
        let (_, inbox) = a.get(&format!("/corps/{CORPID}/members/wangwu/inbox")).await;
        !inbox.as_array().unwrap().is_empty()
    })
    .await;
    drop((a, b));
    db.drop_db().await;
}
