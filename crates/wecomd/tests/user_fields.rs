//! The later member fields and rules over HTTP on both backends: new_userid for system-generated
//! userids (moved everywhere the userid is named), biz_mail and its aliases, avatar_mediaid,
//! external_position/external_profile, status 5 after leaving, the sensitive fields hidden from
//! apps created after 2022-06-20, the legacy weixinid frozen once followed, and ExtAttr/BizMail/
//! NewUserID in change_contact events.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post(s: &Server, path: &str, token: &str, body: Value) -> Value {
    s.api_post(&format!("{path}?access_token={token}"), body.to_string()).await
}

async fn get(s: &Server, token: &str, userid: &str) -> Value {
    s.api(&format!("user/get?access_token={token}&userid={userid}")).await
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

async fn events(s: &Server) -> Vec<Value> {
    let (status, v) = s.get(&format!("/corps/{CORPID}/events")).await;
    assert_eq!(status, 200, "{v}");
    v.as_array().unwrap().clone()
}

fn items(e: &Value) -> Vec<(String, String)> {
    serde_json::from_value(e["items"].clone()).unwrap()
}

/// A member who joined by itself (control API), with its generated userid.
async fn join(s: &Server, body: Value) -> String {
    let (status, v) = s.post(&format!("/corps/{CORPID}/members/join"), body).await;
    assert_eq!(status, 201, "{v}");
    v["userid"].as_str().unwrap().to_string()
}

/// A new app of the test corp seeing the whole corp; `created` as the seed takes it.
async fn new_app(s: &Server, created: Option<&str>, allow_users: &[&str]) -> String {
    let mut body = json!({ "name": "New app", "allow_parties": [1], "allow_users": allow_users });
    if let Some(day) = created {
        body["created"] = day.into();
    }
    let (status, v) = s.post(&format!("/corps/{CORPID}/apps"), body).await;
    assert_eq!(status, 201, "{v}");
    s.token(CORPID, v["secret"].as_str().unwrap()).await
}

async fn new_userid_only_once_for_generated_userids(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let app = s.token(CORPID, APP_SECRET).await;

    // An admin-chosen userid never changes.
    let v = post(&s, "user/update", &sync, json!({"userid": "zhangsan", "new_userid": "zs2"})).await;
    assert_eq!(code(&v), 301036, "{v}");
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": "zhangsan", "new_userid": "zhangsan"})).await["errcode"], 0, "no change");

    let g = join(&s, json!({"name": "Joiner", "department": [2], "mobile": "13900000009"})).await;
    assert!(g.starts_with("wm") && g.len() == 18, "{g}");
    let joined = get(&s, &sync, &g).await;
    assert_eq!((joined["status"].as_i64(), joined["department"].clone()), (Some(1), json!([2])), "{joined}");

    // Name the member everywhere: leader of R&D, zhangsan's direct leader, tag 1, an openid, and
    // the visible range of an app that lists it.
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": g, "department": [2], "is_leader_in_dept": [1]})).await), 0);
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "zhangsan", "direct_leader": [g.to_uppercase()]})).await), 0);
    assert_eq!(code(&post(&s, "tag/addtagusers", &legacy, json!({"tagid": 1, "userlist": [g]})).await), 0);
    let openid = post(&s, "user/convert_to_openid", &app, json!({"userid": g})).await["openid"].as_str().unwrap().to_string();
    let (status, v) =
        s.post(&format!("/corps/{CORPID}/apps"), json!({"name": "Only him", "allow_users": [g], "created": "2021-03-01"})).await;
    assert_eq!(status, 201, "{v}");
    let narrow = s.token(CORPID, v["secret"].as_str().unwrap()).await;
    assert_eq!(code(&get(&s, &narrow, &g).await), 0);

    assert_eq!(
        code(&post(&s, "user/create", &sync, json!({"userid": "Taken1", "name": "T", "department": [1], "email": "t1@example.com"})).await),
        0
    );
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": g, "new_userid": "TAKEN1"})).await), 60102, "case-insensitive");
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": g, "new_userid": "_bad"})).await), 40003);
    let v = post(&s, "user/update", &sync, json!({"userid": g, "new_userid": "Joiner.New", "position": "Dev"})).await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "updated"}));

    assert_eq!(code(&get(&s, &sync, &g).await), 60111, "the old userid is gone");
    let m = get(&s, &sync, "joiner.new").await;
    assert_eq!(m["userid"], "Joiner.New", "{m}");
    assert_eq!((m["department"].clone(), m["is_leader_in_dept"].clone()), (json!([2]), json!([1])));
    assert_eq!((m["position"].as_str(), m["mobile"].as_str(), m["status"].as_i64()), (Some("Dev"), Some("13900000009"), Some(1)));
    assert_eq!(get(&s, &sync, "zhangsan").await["direct_leader"], json!(["Joiner.New"]));
    let tag = s.api(&format!("tag/get?access_token={legacy}&tagid=1")).await;
    let tagged: Vec<&str> = tag["userlist"].as_array().unwrap().iter().map(|u| u["userid"].as_str().unwrap()).collect();
    assert!(tagged.contains(&"Joiner.New") && !tagged.contains(&g.as_str()), "{tag}");
    assert_eq!(post(&s, "user/convert_to_userid", &app, json!({"openid": openid})).await["userid"], "Joiner.New");
    let dept = s.api(&format!("department/get?access_token={sync}&id=2")).await;
    assert_eq!(dept["department"]["department_leader"], json!(["Joiner.New"]), "{dept}");
    assert_eq!(code(&get(&s, &narrow, "Joiner.New").await), 0, "the app's visible range follows the rename");
    let list = s.api(&format!("user/simplelist?access_token={sync}&department_id=2")).await;
    assert!(list["userlist"].as_array().unwrap().iter().any(|u| u["userid"] == "Joiner.New"), "{list}");
    // The mobile moved with the member: it is still its own, not free for another.
    let v = post(&s, "user/create", &sync, json!({"userid": "x2", "name": "X", "department": [1], "mobile": "13900000009"})).await;
    assert_eq!(v["errcode"], 60104, "{v}");

    let last = events(&s).await.last().cloned().unwrap();
    assert_eq!(last["change_type"], "update_user");
    assert_eq!(
        items(&last),
        vec![("UserID".into(), g.clone()), ("NewUserID".into(), "Joiner.New".into()), ("Position".into(), "Dev".into())]
    );

    // Only once.
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "Joiner.New", "new_userid": "joiner2"})).await), 301036);
}

async fn biz_mail_and_aliases(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let base = json!({"userid": "u1", "name": "U", "department": [1], "mobile": "13900000001"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    assert_eq!(code(&post(&s, "user/create", &sync, with("biz_mail", json!("nope"))).await), 60143);
    assert_eq!(
        code(&post(&s, "user/create", &sync, with("biz_mail", json!(format!("{}@corp.cn", "a".repeat(60))))).await),
        60143,
        "≤ 64 bytes"
    );
    assert_eq!(code(&post(&s, "user/create", &sync, with("biz_mail", json!("u1@corp.cn"))).await), 0);
    let created = events(&s).await.last().cloned().unwrap();
    assert!(items(&created).contains(&("BizMail".into(), "u1@corp.cn".into())), "{created}");
    let v = post(
        &s,
        "user/create",
        &sync,
        json!({"userid": "u2", "name": "U", "department": [1], "mobile": "13900000002", "biz_mail": "u1@corp.cn"}),
    )
    .await;
    assert_eq!(code(&v), 60145, "{v}");
    assert_eq!(code(&get(&s, &sync, "u2").await), 60111, "nothing written");

    let v = post(&s, "user/update", &sync, json!({"userid": "u1", "biz_mail_alias": {"item": ["a@corp.cn", "b@corp.cn"]}})).await;
    assert_eq!(code(&v), 0, "{v}");
    let m = get(&s, &sync, "u1").await;
    assert_eq!((m["biz_mail"].clone(), m["biz_mail_alias"].clone()), (json!("u1@corp.cn"), json!({"item": ["a@corp.cn", "b@corp.cn"]})));
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "u1", "biz_mail_alias": {"item": ["c@corp.cn"]}})).await), 0);
    assert_eq!(get(&s, &sync, "u1").await["biz_mail_alias"], json!({"item": ["c@corp.cn"]}), "the list is replaced");
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "u1", "biz_mail_alias": {"item": ["bad"]}})).await), 60143);
    // Another member's corp mailbox is taken, as a mailbox or as an alias.
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "lisi", "biz_mail": "U1@corp.cn".to_lowercase()})).await), 60145);
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "lisi", "biz_mail_alias": {"item": ["u1@corp.cn"]}})).await), 60145);

    // The 企业号 had no corp mail: a legacy caller neither sees nor writes it.
    let l = get(&s, &legacy, "u1").await;
    assert!(l.get("biz_mail").is_none() && l.get("biz_mail_alias").is_none(), "{l}");
    assert_eq!(code(&post(&s, "user/update", &legacy, json!({"userid": "u1", "biz_mail": "x@corp.cn"})).await), 0);
    assert_eq!(get(&s, &sync, "u1").await["biz_mail"], "u1@corp.cn");
}

async fn avatar_mediaid_must_be_an_uploaded_image(db: &Db) {
    let s = Server::start(db, &[]).await;
    for secret in [SYNC_SECRET, GROUP_SECRET] {
        let t = s.token(CORPID, secret).await;
        let body = json!({"userid": "u1", "name": "U", "department": [1], "mobile": "13900000001", "avatar_mediaid": "2-G6nrLmr5EC3MNb_-zL1dDdzkd0p7"});
        let v = post(&s, "user/create", &t, body).await;
        assert_eq!(code(&v), 301015, "{v}");
        assert_eq!(code(&get(&s, &t, "u1").await), 60111, "nothing written");
        let v = post(&s, "user/update", &t, json!({"userid": "lisi", "avatar_mediaid": "3abc", "name": "Changed"})).await;
        assert_eq!(code(&v), 301015, "{v}");
        assert_eq!(get(&s, &t, "lisi").await["name"], "Li Si");
        assert_eq!(code(&post(&s, "user/update", &t, json!({"userid": "lisi", "avatar_mediaid": ""})).await), 0, "empty: no avatar");
    }
}

async fn external_profile_in_the_wecom_view_only(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let profile = json!({
        "external_corp_name": "ACME", "wechat_channels": {"nickname": "acme"},
        "external_attr": [
            {"type": 0, "name": "Hobby", "text": {"value": "travel"}},
            {"type": 1, "name": "Site", "web": {"url": "https://acme.example.com", "title": "ACME"}},
            {"type": 2, "name": "Shop", "miniprogram": {"appid": "wx8bd80126147dfa12", "pagepath": "/index", "title": "Shop"}}
        ]
    });
    let v = post(
        &s,
        "user/update",
        &sync,
        json!({"userid": "zhangsan", "external_position": "产品经理", "external_profile": profile, "address": "Guangzhou"}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let w = get(&s, &sync, "zhangsan").await;
    assert_eq!(
        (w["external_position"].clone(), w["external_profile"].clone(), w["address"].clone()),
        (json!("产品经理"), profile.clone(), json!("Guangzhou"))
    );
    let l = get(&s, &legacy, "zhangsan").await;
    for k in ["external_position", "external_profile", "address", "biz_mail"] {
        assert!(l.get(k).is_none(), "{k}: {l}");
    }
    let attr = |a: Value| json!({"userid": "zhangsan", "external_profile": {"external_attr": [a]}});
    for (a, errcode) in [
        (json!({"type": 7, "name": "x"}), 90100),
        (json!({"type": 0, "name": "x", "text": {"value": "v".repeat(65)}}), 90101),
        (json!({"type": 1, "name": "x", "web": {"url": "https://a.cn", "title": "t".repeat(13)}}), 90102),
        (json!({"type": 1, "name": "x", "web": {"url": "javascript:alert(1)", "title": "t"}}), 90103),
        (json!({"type": 2, "name": "x", "miniprogram": {"appid": "wx8bd80126147dfa12", "pagepath": "/i", "title": "t".repeat(13)}}), 90104),
        (json!({"type": 2, "name": "x", "miniprogram": {"appid": "wx8bd80126147dfa12", "pagepath": "", "title": "t"}}), 90105),
        (json!({"type": 2, "name": "x", "miniprogram": {"appid": "", "pagepath": "/i", "title": "t"}}), 90106),
    ] {
        let v = post(&s, "user/update", &sync, attr(a)).await;
        assert_eq!(code(&v), errcode, "{v}");
    }
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "zhangsan", "external_position": "职".repeat(13)})).await), 40058);
    assert_eq!(get(&s, &sync, "zhangsan").await["external_profile"], profile, "refused updates change nothing");
}

async fn status_5_after_leaving(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let (status, v) = s.post(&format!("/corps/{CORPID}/members/zhangsan/leave"), json!({})).await;
    assert_eq!((status, v), (200, json!({"userid": "zhangsan", "status": 5})));
    assert_eq!(get(&s, &sync, "zhangsan").await["status"], 5);
    assert_eq!(get(&s, &legacy, "zhangsan").await["status"], 4, "the 企业号 knew no 5: no longer followed");
    let listed = s.api(&format!("user/list?access_token={sync}&department_id=2")).await;
    assert_eq!(listed["userlist"][0]["status"], 5, "{listed}");
    let not_followed = s.api(&format!("user/simplelist?access_token={legacy}&department_id=2&status=4")).await;
    assert_eq!(not_followed["userlist"][0]["userid"], "zhangsan", "{not_followed}");
    let last = events(&s).await.last().cloned().unwrap();
    assert_eq!(items(&last), vec![("UserID".into(), "zhangsan".into()), ("Status".into(), "5".into())]);
    let (status, _) = s.post(&format!("/corps/{CORPID}/members/nobody/leave"), json!({})).await;
    assert_eq!(status, 404);
}

async fn sensitive_fields_hidden_from_new_apps(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let body = json!({"userid": "zhangsan", "gender": "1", "email": "zs@example.com", "address": "Guangzhou", "biz_mail": "zs@corp.cn"});
    assert_eq!(code(&post(&s, "user/update", &sync, body).await), 0);

    let old = s.token(CORPID, APP_SECRET).await; // seeded as created 2021-03-01
    let shown = get(&s, &old, "zhangsan").await;
    assert_eq!(
        (shown["mobile"].as_str(), shown["gender"].as_str(), shown["address"].as_str()),
        (Some("13800000001"), Some("1"), Some("Guangzhou"))
    );
    assert_eq!(get(&s, &s.token(CORPID, GROUP_SECRET).await, "zhangsan").await["mobile"], "13800000001", "管理组 keep them");
    assert_eq!(get(&s, &sync, "zhangsan").await["email"], "zs@example.com", "the contacts-sync secret keeps them");

    for (created, hidden) in [(None, true), (Some("2022-06-21"), true), (Some("2022-06-19"), false)] {
        let t = new_app(&s, created, &[]).await;
        let m = get(&s, &t, "zhangsan").await;
        assert_eq!(code(&m), 0, "{m}");
        let got = [&m["mobile"], &m["email"], &m["biz_mail"], &m["address"], &m["avatar"], &m["thumb_avatar"]];
        if hidden {
            assert!(got.iter().all(|v| *v == ""), "{created:?}: {m}");
            assert_eq!(m["gender"], "0");
            assert_eq!((m["name"].as_str(), m["position"].as_str()), (Some("Zhang San"), Some("")), "the rest stays");
            let list = s.api(&format!("user/list?access_token={t}&department_id=1&fetch_child=1")).await;
            let users = list["userlist"].as_array().unwrap();
            assert!(users.len() >= 3 && users.iter().all(|u| u["mobile"] == "" && u["email"] == "" && u["gender"] == "0"), "{list}");
        } else {
            assert_eq!((m["mobile"].as_str(), m["gender"].as_str()), (Some("13800000001"), Some("1")), "{m}");
        }
    }
    let (status, v) = s.post(&format!("/corps/{CORPID}/apps"), json!({"name": "Bad", "created": "2022-02-30"})).await;
    assert_eq!(status, 400, "{v}");
}

async fn legacy_weixinid_frozen_once_followed(db: &Db) {
    let s = Server::start(db, &[]).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    assert_eq!(
        code(&post(&s, "user/create", &legacy, json!({"userid": "wx1", "name": "W", "department": [1], "weixinid": "weixin_one"})).await),
        0
    );
    assert_eq!(code(&post(&s, "user/update", &legacy, json!({"userid": "wx1", "weixinid": "weixin_two"})).await), 0, "not followed yet");
    let (status, _) = s.post(&format!("/corps/{CORPID}/members/wx1/login"), json!({})).await;
    assert_eq!(status, 200);
    let v = post(&s, "user/update", &legacy, json!({"userid": "wx1", "weixinid": "weixin_three", "name": "Changed"})).await;
    assert_eq!((v["errcode"].as_i64(), v["errmsg"].as_str()), (Some(60115), Some("followed member's weixinid can not be modified")));
    let l = get(&s, &legacy, "wx1").await;
    assert_eq!((l["weixinid"].as_str(), l["name"].as_str(), l["status"].as_i64()), (Some("weixin_two"), Some("W"), Some(1)));
    assert_eq!(
        code(&post(&s, "user/update", &legacy, json!({"userid": "wx1", "weixinid": "weixin_two", "name": "N"})).await),
        0,
        "unchanged is fine"
    );
    assert_eq!(
        code(&post(&s, "user/update", &sync, json!({"userid": "wx1", "weixinid": "weixin_four"})).await),
        0,
        "WeCom ignores weixinid"
    );
    assert_eq!(get(&s, &legacy, "wx1").await["weixinid"], "weixin_two");
}

async fn extattr_in_change_contact_events(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let extattr = json!({"attrs": [{"type": 0, "name": "爱好", "text": {"value": "travel"}}, {"type": 1, "name": "Site", "web": {"url": "https://a.cn", "title": "A"}}]});
    let body = json!({"userid": "u1", "name": "U", "department": [1], "mobile": "13900000001", "extattr": extattr});
    assert_eq!(code(&post(&s, "user/create", &sync, body).await), 0);
    let xml = "<Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[travel]]></Value></Text></Item>\
               <Item><Name><![CDATA[Site]]></Name><Type>1</Type><Web><Title><![CDATA[A]]></Title><Url><![CDATA[https://a.cn]]></Url></Web></Item>";
    let created = events(&s).await.last().cloned().unwrap();
    assert_eq!(created["change_type"], "create_user");
    assert!(items(&created).contains(&("ExtAttr".into(), xml.into())), "{created}");
    let changed = json!({"attrs": [{"type": 0, "name": "爱好", "text": {"value": "chess"}}]});
    assert_eq!(code(&post(&s, "user/update", &sync, json!({"userid": "u1", "extattr": changed})).await), 0);
    let updated = events(&s).await.last().cloned().unwrap();
    assert_eq!(
        items(&updated),
        vec![
            ("UserID".into(), "u1".into()),
            (
                "ExtAttr".into(),
                "<Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[chess]]></Value></Text></Item>".into()
            )
        ]
    );
}

on_both_backends!(
    new_userid_only_once_for_generated_userids,
    biz_mail_and_aliases,
    avatar_mediaid_must_be_an_uploaded_image,
    external_profile_in_the_wecom_view_only,
    status_5_after_leaving,
    sensitive_fields_hidden_from_new_apps,
    legacy_weixinid_frozen_once_followed,
    extattr_in_change_contact_events,
);
