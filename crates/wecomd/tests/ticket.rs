//! JS-SDK tickets over HTTP: get_jsapi_ticket in both dialects, ticket/get's types per dialect
//! (WeCom agent_config and wx_card, 企业号 wx_card and the group ticket), one live ticket per
//! owner for 7200 s of wecomd's clock.

mod common;

use common::*;
use serde_json::{json, Value};

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

fn ticket(v: &Value) -> String {
    assert_eq!((code(v), v["errmsg"].as_str()), (0, Some("ok")), "{v}");
    let t = v["ticket"].as_str().unwrap_or_else(|| panic!("no ticket: {v}")).to_string();
    assert_eq!(t.len(), 86, "{t}");
    assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{t}");
    t
}

async fn jsapi(s: &Server, token: &str) -> Value {
    s.api(&format!("get_jsapi_ticket?access_token={token}")).await
}

async fn ticket_get(s: &Server, token: &str, query: &str) -> Value {
    s.api(&format!("ticket/get?access_token={token}{query}")).await
}

async fn jsapi_ticket_lives_7200_seconds(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let first = jsapi(&s, &wecom).await;
    assert_eq!(first["expires_in"], 7200, "{first}");
    assert_eq!(first.as_object().unwrap().len(), 4, "errcode, errmsg, ticket, expires_in: {first}");
    let t = ticket(&first);
    // The corp's ticket: the other dialect and the other app get the same one, with errcode.
    assert_eq!(ticket(&jsapi(&s, &legacy).await), t);
    assert_eq!(ticket(&jsapi(&s, &s.token(CORPID, APP2_SECRET).await).await), t);
    assert_eq!(ticket(&jsapi(&s, &s.token(CORPID, SYNC_SECRET).await).await), t);
    // Another corp has its own.
    assert_ne!(ticket(&jsapi(&s, &s.token(OTHER_CORPID, OTHER_SECRET).await).await), t);

    s.advance(7000).await;
    let later = jsapi(&s, &wecom).await;
    assert_eq!((ticket(&later), later["expires_in"].as_i64()), (t.clone(), Some(200)), "same ticket, its remaining life");
    s.advance(200).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let renewed = jsapi(&s, &wecom).await;
    assert_ne!(ticket(&renewed), t, "expired: a new ticket");
    assert_eq!(renewed["expires_in"], 7200);
    drop(s);

    // Tickets are stored: a restarted server hands out the same one.
    let s = Server::start(db, &[]).await;
    let again = s.api(&format!("get_jsapi_ticket?access_token={}", s.token(CORPID, APP_SECRET).await)).await;
    assert_eq!(ticket(&again), ticket(&renewed));
}

async fn ticket_types_per_dialect(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let app2 = s.token(CORPID, APP2_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let group = s.token(CORPID, GROUP_SECRET).await;
    let group2 = s.token(CORPID, GROUP2_SECRET).await;

    // WeCom agent_config: one per app, not the corp's jsapi ticket. WxJava's `?&type=` works.
    let a = ticket(&ticket_get(&s, &app, "&type=agent_config").await);
    let jsapi = ticket(&s.api(&format!("get_jsapi_ticket?access_token={app}")).await);
    assert_ne!(a, jsapi);
    assert_eq!(ticket(&s.api(&format!("ticket/get?&type=agent_config&access_token={app}")).await), a);
    let a2 = ticket(&ticket_get(&s, &app2, "&type=agent_config").await);
    assert_ne!(a, a2);
    assert_eq!(ticket_get(&s, &app, "&type=agent_config").await["expires_in"], 7200);
    assert_eq!(code(&ticket_get(&s, &sync, "&type=agent_config").await), 48002, "the contacts-sync secret has no app");

    // wx_card: the corp's card ticket, in both dialects.
    let card = ticket(&ticket_get(&s, &app, "&type=wx_card").await);
    assert!(card != a && card != jsapi);
    assert_eq!(ticket(&ticket_get(&s, &group, "&type=wx_card").await), card);

    // 企业号 group ticket: per 管理组, naming its group.
    let g = ticket_get(&s, &group, "&type=contact").await;
    assert_eq!(g["group_id"], "1", "{g}");
    assert_eq!(g["expires_in"], 7200);
    let g2 = ticket_get(&s, &group2, "&type=contact").await;
    assert_eq!(g2["group_id"], "2");
    assert_ne!(ticket(&g), ticket(&g2));
    assert_eq!(ticket(&ticket_get(&s, &group, "&type=contact").await), ticket(&g));

    // Types a dialect does not have, or none.
    for (t, q) in [(&app, "&type=contact"), (&group, "&type=agent_config"), (&app, ""), (&group, "&type=jsapi"), (&app, "&type=")] {
        let v = ticket_get(&s, t, q).await;
        assert_eq!(code(&v), 91040, "{q}: {v}");
        assert!(v.get("ticket").is_none());
    }
    let m = ticket_get(&s, &app, "&type=contact").await["errmsg"].as_str().unwrap().to_string();
    assert!(m.starts_with("invalid ticket type, hint: ["), "{m}");
    assert_eq!(ticket_get(&s, &group, "&type=jsapi").await, json!({ "errcode": 91040, "errmsg": "invalid ticket type" }));
}

on_both_backends!(jsapi_ticket_lives_7200_seconds, ticket_types_per_dialect);
