//! The member API over HTTP on both backends: create, get, update, delete, batchdelete,
//! simplelist, list and list_id, each dialect's view of the same member, the frozen mobile, the
//! 30000-per-department limit under racing writers, list_id paging while members arrive, and the
//! change_contact events every write records.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;

async fn post(s: &Server, path: &str, token: &str, body: Value) -> Value {
    s.api_post(&format!("{path}?access_token={token}"), body.to_string()).await
}

async fn get(s: &Server, token: &str, userid: &str) -> Value {
    s.api(&format!("user/get?access_token={token}&userid={userid}")).await
}

async fn events(s: &Server, corpid: &str, after: i64) -> Vec<Value> {
    let (status, v) = s.get(&format!("/corps/{corpid}/events?after={after}")).await;
    assert_eq!(status, 200, "{v}");
    v.as_array().unwrap().clone()
}

async fn last_seq(s: &Server) -> i64 {
    events(s, CORPID, 0).await.last().map_or(0, |e| e["seq"].as_i64().unwrap())
}

fn items(e: &Value) -> Vec<(String, String)> {
    serde_json::from_value(e["items"].clone()).unwrap()
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

async fn create_and_get_in_both_dialects(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let before = last_seq(&s).await;

    let body = json!({
        "userid": "ZhaoLiu", "name": "赵六", "alias": "Liu", "department": [2, 3], "order": [10, 20],
        "is_leader_in_dept": [1, 0], "main_department": 3, "position": "Engineer", "mobile": "+86-13900000006",
        "gender": "2", "email": "zhaoliu@example.com", "telephone": "020-1234", "english_name": "Liu Zhao",
        "direct_leader": ["zhangsan"], "address": "Guangzhou", "extattr": {"attrs": [{"type": 0, "name": "No", "text": {"value": "E1"}}]},
        "weixinid": "ignored_by_wecom"
    });
    let v = post(&s, "user/create", &sync, body).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(v["errmsg"], "created");

    // The WeCom view: userids ignore case on the way in and keep their case on the way out.
    let w = get(&s, &sync, "zhaoliu").await;
    assert_eq!(w["errcode"], 0, "{w}");
    assert_eq!(w["userid"], "ZhaoLiu");
    assert_eq!(w["department"], json!([2, 3]));
    assert_eq!(w["order"], json!([10, 20]));
    assert_eq!(w["is_leader_in_dept"], json!([1, 0]));
    assert_eq!(w["isleader"], 1);
    assert_eq!(w["main_department"], 3);
    assert_eq!(w["gender"], "2", "gender is a string in user/get");
    assert_eq!(w["status"], 4, "not activated until the member logs in");
    assert_eq!(w["enable"], 1);
    assert_eq!(w["english_name"], "Liu Zhao");
    assert_eq!(w["telephone"], "020-1234");
    assert_eq!(w["direct_leader"], json!(["zhangsan"]));
    assert_eq!(w["extattr"]["attrs"][0]["text"]["value"], "E1");
    assert!(w.get("weixinid").is_none(), "WeCom has no weixinid: {w}");

    // The legacy view of the same member: no WeCom-only field.
    let l = get(&s, &legacy, "ZHAOLIU").await;
    assert_eq!(l["errcode"], 0, "{l}");
    assert_eq!(l["userid"], "ZhaoLiu");
    assert_eq!(l["gender"], "2");
    assert_eq!(l["status"], 4, "4 = not followed");
    assert_eq!(l["weixinid"], "", "a WeCom caller cannot set it");
    for k in ["english_name", "isleader", "is_leader_in_dept", "telephone", "enable", "order", "alias", "main_department"] {
        assert!(l.get(k).is_none(), "{k} in legacy view: {l}");
    }

    // A legacy create with only a weixinid; the WeCom view does not show it.
    let v = post(
        &s,
        "user/create",
        &legacy,
        json!({"userid": "qianqi", "name": "Qian Qi", "department": [3], "weixinid": "qianqi_wx", "gender": 1}),
    )
    .await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "created"}));
    assert_eq!(get(&s, &legacy, "qianqi").await["weixinid"], "qianqi_wx");
    assert!(get(&s, &sync, "qianqi").await.get("weixinid").is_none());
    assert_eq!(get(&s, &sync, "qianqi").await["gender"], "1");

    // Status after login and after disabling, the same number in both dialects.
    let (st, _) = s.post(&format!("/corps/{CORPID}/members/zhaoliu/login"), json!({})).await;
    assert_eq!(st, 200);
    assert_eq!(get(&s, &sync, "zhaoliu").await["status"], 1);
    assert_eq!(get(&s, &legacy, "zhaoliu").await["status"], 1, "1 = followed");
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": "zhaoliu", "enable": 0})).await["errcode"], 0);
    assert_eq!(get(&s, &sync, "zhaoliu").await["status"], 2);
    assert_eq!(get(&s, &sync, "zhaoliu").await["enable"], 0);
    assert_eq!(get(&s, &legacy, "zhaoliu").await["status"], 2, "2 = frozen");

    // create_user events, recorded with who made them.
    let ev = events(&s, CORPID, before).await;
    assert_eq!(ev[0]["change_type"], "create_user");
    assert_eq!(ev[0]["origin"], "contact_sync");
    let it = items(&ev[0]);
    assert_eq!(it[0], ("UserID".into(), "ZhaoLiu".into()));
    for pair in [
        ("Department", "2,3"),
        ("MainDepartment", "3"),
        ("IsLeaderInDept", "1,0"),
        ("Gender", "2"),
        ("Status", "4"),
        ("Mobile", "+86-13900000006"),
    ] {
        assert!(it.contains(&(pair.0.into(), pair.1.into())), "{pair:?} in {it:?}");
    }
    assert_eq!(ev[1]["origin"], "group:1");
    assert_eq!(ev.last().unwrap()["change_type"], "update_user");
    assert_eq!(items(ev.last().unwrap()), vec![("UserID".into(), "ZhaoLiu".into()), ("Status".into(), "2".into())]);
}

async fn create_rules_and_errcodes(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let reader = s.token(CORPID, GROUP2_SECRET).await;
    let before = last_seq(&s).await;
    let base = json!({"userid": "u1", "name": "U One", "department": [2], "mobile": "13900000001"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        match v {
            Value::Null => {
                b.as_object_mut().unwrap().remove(k);
            }
            v => b[k] = v,
        }
        b
    };
    let cases = [
        (with("userid", json!("ZHANGSAN")), 60102),
        (with("userid", json!("_bad")), 40003),
        (with("userid", Value::Null), 41009),
        (with("name", json!("")), 60112),
        (with("department", Value::Null), 41019),
        (with("department", json!([99])), 60123),
        (with("department", json!((1..=101).collect::<Vec<_>>())), 60110),
        (with("is_leader_in_dept", json!([1, 0])), 60132),
        (with("mobile", json!("13x")), 60103),
        (with("mobile", Value::Null), 60129),
        (with("email", json!("lisi@example.com")), 60106),
        (with("email", json!("not-an-email")), 60105),
        (with("position", json!("p".repeat(129))), 301012),
        (with("telephone", json!("phone")), 301013),
        (with("english_name", json!("名字")), 301014),
        (with("gender", json!("3")), 60114),
        (with("name", json!(5)), 40058),
    ];
    for (body, expected) in cases {
        let v = post(&s, "user/create", &sync, body.clone()).await;
        assert_eq!(code(&v), expected, "{body} → {v}");
    }
    let v = post(&s, "user/create", &sync, with("mobile", json!("13800000001"))).await;
    assert_eq!(v["errcode"], 60104);
    assert!(v["errmsg"].as_str().unwrap().starts_with("mobile existed:zhangsan, hint: ["), "{v}");
    assert_eq!(post(&s, "user/create", &legacy, with("mobile", json!("13800000001"))).await["errmsg"], "mobile existed:zhangsan");

    // The legacy dialect's own codes.
    assert_eq!(post(&s, "user/create", &legacy, with("mobile", Value::Null)).await["errcode"], 60113);
    assert_eq!(post(&s, "user/create", &legacy, with("department", Value::Null)).await["errcode"], 60127);
    assert_eq!(post(&s, "user/create", &legacy, with("weixinid", json!("x"))).await["errcode"], 60107);

    // Who may write: apps never (48002), a read-only group nowhere, a group only in its subtrees.
    assert_eq!(post(&s, "user/create", &app, base.clone()).await["errcode"], 48002);
    assert_eq!(post(&s, "user/create", &reader, base.clone()).await["errcode"], 60011, "group 2 holds no write right");
    assert_eq!(events(&s, CORPID, before).await.len(), 0, "nothing written");

    assert_eq!(post(&s, "user/create", &sync, base.clone()).await["errcode"], 0);
    // weixinid unique (legacy) and duplicate mobile on a second create.
    assert_eq!(
        post(&s, "user/create", &legacy, json!({"userid":"w1","name":"W","department":[3],"weixinid":"same_wx"})).await["errcode"],
        0
    );
    assert_eq!(
        post(&s, "user/create", &legacy, json!({"userid":"w2","name":"W","department":[3],"weixinid":"same_wx"})).await["errcode"],
        60108
    );

    // user/get errors keep the lists, empty.
    let v = get(&s, &sync, "nobody").await;
    assert_eq!(v["errcode"], 60111);
    for k in ["department", "order", "is_leader_in_dept", "direct_leader"] {
        assert_eq!(v[k], json!([]), "{k}: {v}");
    }
    assert_eq!(s.api(&format!("user/get?access_token={sync}")).await["errcode"], 41009);
    // Outside the caller's read range: app 1000003 sees R&D only, group 2 too.
    let rnd_app = s.token(CORPID, APP2_SECRET).await;
    assert_eq!(get(&s, &rnd_app, "zhangsan").await["errcode"], 0);
    assert_eq!(get(&s, &rnd_app, "wangwu").await["errcode"], 60111);
    assert_eq!(get(&s, &reader, "wangwu").await["errcode"], 60111);
    assert_eq!(get(&s, &reader, "u1").await["errcode"], 0);
}

async fn updates_and_the_frozen_mobile(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let before = last_seq(&s).await;

    // zhangsan has logged in: a new mobile answers "updated" and changes nothing…
    let v = post(&s, "user/update", &sync, json!({"userid": "ZhangSan", "mobile": "13911111111", "position": "CTO"})).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(v["errmsg"], "updated");
    let z = get(&s, &sync, "zhangsan").await;
    assert_eq!((z["mobile"].as_str(), z["position"].as_str(), z["name"].as_str()), (Some("13800000001"), Some("CTO"), Some("Zhang San")));
    // …while lisi, who has not, changes it, until logging in.
    assert_eq!(post(&s, "user/update", &legacy, json!({"userid": "lisi", "mobile": "13922222222"})).await["errcode"], 0);
    assert_eq!(get(&s, &sync, "lisi").await["mobile"], "13922222222");
    let (st, _) = s.post(&format!("/corps/{CORPID}/members/lisi/login"), json!({})).await;
    assert_eq!(st, 200);
    assert_eq!(post(&s, "user/update", &legacy, json!({"userid": "lisi", "mobile": "13933333333"})).await["errcode"], 0);
    assert_eq!(get(&s, &legacy, "lisi").await["mobile"], "13922222222");

    // order / is_leader_in_dept only with department.
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": "wangwu", "order": [7], "is_leader_in_dept": [1]})).await["errcode"], 0);
    let w = get(&s, &sync, "wangwu").await;
    assert_eq!((w["order"].clone(), w["is_leader_in_dept"].clone()), (json!([0]), json!([0])));
    let v = post(&s, "user/update", &sync, json!({"userid": "wangwu", "department": [3, 2], "order": [7, 1], "is_leader_in_dept": [1, 0]}))
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let w = get(&s, &sync, "wangwu").await;
    assert_eq!(
        (w["department"].clone(), w["order"].clone(), w["is_leader_in_dept"].clone()),
        (json!([3, 2]), json!([7, 1]), json!([1, 0]))
    );
    assert_eq!(w["main_department"], 3);

    // Errors as create's, plus 60111; nothing half-written.
    for (body, expected) in [
        (json!({"userid": "nobody", "name": "x"}), 60111),
        (json!({"name": "x"}), 41009),
        (json!({"userid": "wangwu", "email": "lisi@example.com"}), 60106),
        (json!({"userid": "wangwu", "department": [3, 99]}), 60123),
        (json!({"userid": "wangwu", "department": [3], "is_leader_in_dept": [1, 1]}), 60132),
        (json!({"userid": "wangwu", "main_department": 1}), 60123),
        (json!({"userid": "wangwu", "name": "", "position": "x"}), 60112),
    ] {
        assert_eq!(code(&post(&s, "user/update", &sync, body.clone()).await), expected, "{body}");
    }
    assert_eq!(get(&s, &sync, "wangwu").await["department"], json!([3, 2]));
    // A read-only group may not move a member; the app token may not write at all.
    let reader = s.token(CORPID, GROUP2_SECRET).await;
    assert_eq!(post(&s, "user/update", &reader, json!({"userid": "zhangsan", "name": "x"})).await["errcode"], 60011);

    // update_user carries only what changed; an update that changes nothing records nothing.
    let ev = events(&s, CORPID, before).await;
    let first = items(&ev[0]);
    assert_eq!(first, vec![("UserID".into(), "zhangsan".into()), ("Position".into(), "CTO".into())], "frozen mobile is not a change");
    assert!(ev.iter().all(|e| e["change_type"] == "update_user"));
    let moved = items(ev.last().unwrap());
    assert!(moved.contains(&("Department".into(), "3,2".into())) && moved.contains(&("IsLeaderInDept".into(), "1,0".into())), "{moved:?}");
    assert!(!moved.iter().any(|(k, _)| k == "Name"));
}

async fn racing_updates_lose_nothing(db: &Db) {
    let s = Server::start(db, &["--no-rate-limits"]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let before = last_seq(&s).await;
    let fields = [
        ("name", json!("New Name")),
        ("alias", json!("nick")),
        ("position", json!("Boss")),
        ("telephone", json!("020-8888")),
        ("address", json!("Shenzhen")),
        ("english_name", json!("Zhang")),
        ("gender", json!("1")),
        ("email", json!("zs@example.com")),
    ];
    let mut racers = tokio::task::JoinSet::new();
    for (field, value) in fields.clone() {
        let (http, url) = (s.http().clone(), s.url(&format!("/cgi-bin/user/update?access_token={sync}")));
        let body = json!({ "userid": "zhangsan", field: value });
        racers.spawn(async move { http.post(url).body(body.to_string()).send().await.unwrap().json::<Value>().await.unwrap() });
    }
    for v in racers.join_all().await {
        assert_eq!(v["errcode"], 0, "{v}");
    }
    let z = get(&s, &sync, "zhangsan").await;
    for (field, value) in &fields {
        assert_eq!(&z[*field], value, "{field} was lost: {z}");
    }
    let ev = events(&s, CORPID, before).await;
    // english_name is not a change_contact element: that update records nothing.
    assert_eq!(ev.len(), fields.len() - 1, "one update_user per update: {ev:?}");
    assert!(ev.iter().all(|e| items(e).len() == 2), "each with UserID and its own change: {ev:?}");
}

async fn deletes(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    for i in 0..3 {
        let v = post(
            &s,
            "user/create",
            &sync,
            json!({"userid": format!("d{i}"), "name": "D", "department": [3], "email": format!("d{i}@example.com")}),
        )
        .await;
        assert_eq!(v["errcode"], 0, "{v}");
    }
    let before = last_seq(&s).await;
    let v = s.api(&format!("user/delete?access_token={sync}&userid=D0")).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(v["errmsg"], "deleted");
    assert_eq!(get(&s, &sync, "d0").await["errcode"], 60111);
    assert_eq!(s.api(&format!("user/delete?access_token={sync}&userid=d0")).await["errcode"], 60111);
    assert_eq!(s.api(&format!("user/delete?access_token={sync}")).await["errcode"], 41009);
    // The email is free again.
    assert_eq!(
        post(&s, "user/create", &legacy, json!({"userid": "d9", "name": "D", "department": [3], "email": "d0@example.com"})).await
            ["errcode"],
        0
    );

    // batchdelete: all or nothing.
    let v = post(&s, "user/batchdelete", &sync, json!({"useridlist": ["d1", "nobody"]})).await;
    assert_eq!(v["errcode"], 301021, "{v}");
    assert_eq!(get(&s, &sync, "d1").await["errcode"], 0, "nothing deleted");
    assert_eq!(post(&s, "user/batchdelete", &sync, json!({"useridlist": ["d1", "_x"]})).await["errcode"], 40003);
    assert_eq!(post(&s, "user/batchdelete", &sync, json!({"useridlist": []})).await["errcode"], 40032);
    let many: Vec<String> = (0..201).map(|i| format!("x{i}")).collect();
    assert_eq!(post(&s, "user/batchdelete", &sync, json!({ "useridlist": many })).await["errcode"], 40032);
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(post(&s, "user/batchdelete", &app, json!({"useridlist": ["d1"]})).await["errcode"], 48002);
    let v = post(&s, "user/batchdelete", &legacy, json!({"useridlist": ["D1", "d2"]})).await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "deleted"}));
    assert_eq!(get(&s, &sync, "d2").await["errcode"], 60111);

    let ev = events(&s, CORPID, before).await;
    let deleted: Vec<_> = ev.iter().filter(|e| e["change_type"] == "delete_user").map(|e| (e["origin"].clone(), items(e))).collect();
    assert_eq!(
        deleted,
        vec![
            (json!("contact_sync"), vec![("UserID".to_string(), "d0".to_string())]),
            (json!("group:1"), vec![("UserID".into(), "d1".into())]),
            (json!("group:1"), vec![("UserID".into(), "d2".into())]),
        ]
    );
}

async fn simplelist_and_list(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let rnd_app = s.token(CORPID, APP2_SECRET).await;
    for (u, order) in [("a1", 1), ("a2", 9)] {
        let v = post(
            &s,
            "user/create",
            &sync,
            json!({"userid": u, "name": u, "department": [2], "order": [order], "email": format!("{u}@example.com")}),
        )
        .await;
        assert_eq!(v["errcode"], 0, "{v}");
    }
    let v = s.api(&format!("user/simplelist?access_token={sync}&department_id=2")).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let ids: Vec<&str> = v["userlist"].as_array().unwrap().iter().map(|u| u["userid"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a2", "a1", "zhangsan"], "larger order first, then the earlier created");
    assert_eq!(v["userlist"][0], json!({"userid": "a2", "name": "a2", "department": [2]}));

    let direct = s.api(&format!("user/simplelist?access_token={sync}&department_id=1")).await;
    assert_eq!(direct["userlist"].as_array().unwrap().len(), 1, "lisi only: {direct}");
    let all = s.api(&format!("user/simplelist?access_token={sync}&department_id=1&fetch_child=1")).await;
    let all: HashSet<&str> = all["userlist"].as_array().unwrap().iter().map(|u| u["userid"].as_str().unwrap()).collect();
    assert_eq!(all, HashSet::from(["a1", "a2", "zhangsan", "wangwu", "lisi"]));

    // user/list: user/get objects without errcode, in the caller's dialect.
    let w = s.api(&format!("user/list?access_token={sync}&department_id=2")).await;
    let first = &w["userlist"][0];
    assert_eq!(first["userid"], "a2");
    assert_eq!(first["order"], json!([9]));
    assert!(first.get("errcode").is_none() && first.get("weixinid").is_none());
    assert_eq!(first["gender"], "0");
    let l = s.api(&format!("user/list?access_token={legacy}&department_id=2")).await;
    assert_eq!(l["userlist"][0]["weixinid"], "");
    assert!(l["userlist"][0].get("order").is_none());

    // The legacy status filter (bit-OR of 1 followed, 2 frozen, 4 not followed); WeCom ignores it.
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": "a1", "enable": 0})).await["errcode"], 0);
    async fn tree(s: &Server, token: &str, status: u8) -> HashSet<String> {
        let v = s.api(&format!("user/simplelist?access_token={token}&department_id=1&fetch_child=1&status={status}")).await;
        v["userlist"].as_array().unwrap().iter().map(|u| u["userid"].as_str().unwrap().to_string()).collect()
    }
    assert_eq!(tree(&s, &legacy, 1).await, HashSet::from(["zhangsan".into(), "wangwu".into()]));
    assert_eq!(tree(&s, &legacy, 2).await, HashSet::from(["a1".into()]));
    assert_eq!(tree(&s, &legacy, 6).await, HashSet::from(["a1".into(), "a2".into(), "lisi".into()]));
    assert_eq!(tree(&s, &legacy, 0).await.len(), 5);
    assert_eq!(tree(&s, &sync, 1).await.len(), 5, "WeCom has no status filter");

    // Ranges and bad departments.
    assert_eq!(s.api(&format!("user/simplelist?access_token={rnd_app}&department_id=2")).await["errcode"], 0);
    assert_eq!(s.api(&format!("user/simplelist?access_token={rnd_app}&department_id=3")).await["errcode"], 60011);
    assert_eq!(s.api(&format!("user/list?access_token={rnd_app}&department_id=1")).await["errcode"], 60011);
    assert_eq!(s.api(&format!("user/simplelist?access_token={sync}&department_id=99")).await["errcode"], 60003);
    assert_eq!(s.api(&format!("user/simplelist?access_token={sync}")).await["errcode"], 60123);
    assert_eq!(s.api(&format!("user/list?access_token={sync}&department_id=x")).await["errcode"], 60123);
}

async fn list_id_pages_stably_while_members_arrive(db: &Db) {
    let s = Server::start(db, &["--no-rate-limits"]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    for i in 0..6 {
        let v = post(
            &s,
            "user/create",
            &sync,
            json!({"userid": format!("m{i}"), "name": "M", "department": [2, 3], "email": format!("m{i}@example.com")}),
        )
        .await;
        assert_eq!(v["errcode"], 0, "{v}");
    }
    let mut expected: HashSet<(String, i64)> = HashSet::from([("zhangsan".into(), 2), ("wangwu".into(), 3), ("lisi".into(), 1)]);
    expected.extend((0..6).flat_map(|i| [(format!("m{i}"), 2), (format!("m{i}"), 3)]));

    let mut seen: Vec<(String, i64)> = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let v = post(&s, "user/list_id", &sync, json!({"cursor": cursor, "limit": 4})).await;
        assert_eq!(v["errcode"], 0, "{v}");
        let rows = v["dept_user"].as_array().unwrap();
        assert!(rows.len() <= 4);
        seen.extend(rows.iter().map(|r| (r["userid"].as_str().unwrap().to_string(), r["department"].as_i64().unwrap())));
        // Members arriving before and after the cursor while paging.
        let v = post(
            &s,
            "user/create",
            &sync,
            json!({"userid": format!("new{pages}"), "name": "N", "department": [1], "email": format!("new{pages}@example.com")}),
        )
        .await;
        assert_eq!(v["errcode"], 0);
        pages += 1;
        cursor = v_next(&post(&s, "user/list_id", &sync, json!({"cursor": cursor, "limit": 4})).await);
        if cursor.is_empty() {
            break;
        }
        assert!(pages < 20);
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no row twice: {seen:?}");
    assert!(
        expected.is_subset(&unique),
        "every row present from the start is seen: missing {:?}",
        expected.difference(&unique).collect::<Vec<_>>()
    );

    assert_eq!(post(&s, "user/list_id", &sync, json!({"cursor": "garbage"})).await["errcode"], 50100);
    let bad = post(&s, "user/list_id", &sync, json!({"cursor": "6e6f7065"})).await;
    assert_eq!(bad["errcode"], 50100);
    assert_eq!(bad["dept_user"], json!([]));
    assert_eq!(post(&s, "user/list_id", &sync, json!({"limit": 10001})).await["errcode"], 40058);
    let all = post(&s, "user/list_id", &sync, json!({})).await;
    assert_eq!(all["next_cursor"], "");
    // An app sees only its range.
    let rnd_app = s.token(CORPID, APP2_SECRET).await;
    let v = post(&s, "user/list_id", &rnd_app, json!({})).await;
    let users: HashSet<&str> = v["dept_user"].as_array().unwrap().iter().map(|r| r["userid"].as_str().unwrap()).collect();
    assert!(users.contains("zhangsan") && users.contains("m0") && !users.contains("wangwu") && !users.contains("lisi"), "{users:?}");
}

fn v_next(v: &Value) -> String {
    assert_eq!(v["errcode"], 0, "{v}");
    v["next_cursor"].as_str().unwrap().to_string()
}

async fn lookups_and_authsucc(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let rnd_app = s.token(CORPID, APP2_SECRET).await;

    let v = post(&s, "user/getuserid", &sync, json!({"mobile": "13800000001"})).await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "ok", "userid": "zhangsan"}));
    assert_eq!(post(&s, "user/getuserid", &legacy, json!({"mobile": "13800000003"})).await["userid"], "wangwu");
    assert_eq!(post(&s, "user/getuserid", &sync, json!({"mobile": "13800009999"})).await["errcode"], 46004);
    assert_eq!(post(&s, "user/getuserid", &rnd_app, json!({"mobile": "13800000003"})).await["errcode"], 46004, "outside the range");
    assert_eq!(post(&s, "user/getuserid", &sync, json!({"mobile": "12"})).await["errcode"], 60103);
    assert_eq!(post(&s, "user/getuserid", &sync, json!({})).await["errcode"], 60103);

    let v = post(&s, "user/get_userid_by_email", &sync, json!({"email": "lisi@example.com", "email_type": 2})).await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "ok", "userid": "lisi"}));
    // email_type 1, the default, is the corp mailbox: the personal email is not found by it.
    assert_eq!(post(&s, "user/get_userid_by_email", &sync, json!({"email": "lisi@example.com"})).await["errcode"], 46004);
    let v = post(&s, "user/update", &sync, json!({"userid": "lisi", "biz_mail": "lisi@corp.example.com"})).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(post(&s, "user/get_userid_by_email", &sync, json!({"email": "lisi@corp.example.com"})).await["userid"], "lisi");
    let v = post(&s, "user/get_userid_by_email", &sync, json!({"email": "lisi@corp.example.com", "email_type": 1})).await;
    assert_eq!(v["userid"], "lisi");
    let v = post(&s, "user/get_userid_by_email", &sync, json!({"email": "lisi@corp.example.com", "email_type": 2})).await;
    assert_eq!(v["errcode"], 46004, "the corp mailbox is not the personal email");
    assert_eq!(post(&s, "user/get_userid_by_email", &sync, json!({"email": "no@example.com"})).await["errcode"], 46004);
    assert_eq!(post(&s, "user/get_userid_by_email", &sync, json!({"email": "bad"})).await["errcode"], 60105);
    assert_eq!(post(&s, "user/get_userid_by_email", &sync, json!({"email": "lisi@example.com", "email_type": 9})).await["errcode"], 40058);

    // authsucc: lisi joins; from then on the mobile is frozen.
    let before = last_seq(&s).await;
    assert_eq!(get(&s, &legacy, "lisi").await["status"], 4);
    let v = s.api(&format!("user/authsucc?access_token={legacy}&userid=lisi")).await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(get(&s, &legacy, "lisi").await["status"], 1);
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": "lisi", "mobile": "13977777777"})).await["errcode"], 0);
    assert_eq!(get(&s, &sync, "lisi").await["mobile"], "");
    assert_eq!(s.api(&format!("user/authsucc?access_token={legacy}&userid=nobody")).await["errcode"], 60111);
    assert_eq!(s.api(&format!("user/authsucc?access_token={legacy}")).await["errcode"], 41009);
    let ev = events(&s, CORPID, before).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["origin"], "group:1");
    assert_eq!(items(&ev[0]), vec![("UserID".into(), "lisi".into()), ("Status".into(), "1".into())]);
}

async fn batch_invite_names_what_it_cannot_invite(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let v = post(&s, "batch/invite", &sync, json!({"user": ["lisi", "nobody"], "party": [2, 99], "tag": [1, 77]})).await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "ok", "invaliduser": ["nobody"], "invalidparty": [99], "invalidtag": [77]}));
    let v = post(&s, "batch/invite", &legacy, json!({"user": ["lisi"]})).await;
    assert_eq!(v, json!({"errcode": 0, "errmsg": "ok", "invaliduser": [], "invalidparty": [], "invalidtag": []}));
    assert_eq!(post(&s, "batch/invite", &sync, json!({})).await["errcode"], 40035);
    assert_eq!(post(&s, "batch/invite", &sync, json!({"party": (0..101).collect::<Vec<_>>()})).await["errcode"], 40035);
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(post(&s, "batch/invite", &app, json!({"user": ["lisi"]})).await["errcode"], 48002);
}

const RACE_CORPID: &str = "ww0000000000030000";
const RACE_SECRET: &str = "race-sync-secret-xxxxxxxxxxxxxxxxxxxxxxxxxx";

/// A corp whose department 2 holds `n` members, as seed TOML.
fn crowded_seed(n: usize) -> String {
    let mut t = format!(
        "[[corp]]\ncorpid = \"{RACE_CORPID}\"\nname = \"Crowded\"\ncontact_sync_secret = \"{RACE_SECRET}\"\n\n\
         [[corp.department]]\nid = 2\nname = \"Full\"\nparentid = 1\n\n[[corp.department]]\nid = 3\nname = \"Other\"\nparentid = 1\n"
    );
    for i in 0..n {
        t.push_str(&format!("\n[[corp.member]]\nuserid = \"seed{i}\"\nname = \"S\"\ndepartment = [2]\n"));
    }
    t
}

async fn at_most_30000_per_department_under_racing_writers(db: &Db) {
    let s = Server::start(db, &["--no-rate-limits"]).await;
    let started = std::time::Instant::now();
    let r = s.http().post(s.url("/control/seed")).body(crowded_seed(29990)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    eprintln!("seeding 29990 members took {:?}", started.elapsed());
    let sync = s.token(RACE_CORPID, RACE_SECRET).await;
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (http, url) = (s.http().clone(), s.url(&format!("/cgi-bin/user/create?access_token={sync}")));
        let body = json!({"userid": format!("racer{i}"), "name": "R", "department": [2], "email": format!("r{i}@example.com")});
        racers.spawn(async move { (i, http.post(url).body(body.to_string()).send().await.unwrap().json::<Value>().await.unwrap()) });
    }
    let answers = racers.join_all().await;
    let ok = answers.iter().filter(|(_, v)| v["errcode"] == 0).count();
    let full = answers.iter().filter(|(_, v)| v["errcode"] == 81001).count();
    assert_eq!((ok, full), (10, 20), "{answers:?}");
    let v = post(&s, "user/list_id", &sync, json!({"limit": 10000})).await;
    assert_eq!(v["errcode"], 0);

    // Moving a member in is refused too; moving one out makes room.
    let v = post(&s, "user/create", &sync, json!({"userid": "outsider", "name": "O", "department": [3], "email": "o@example.com"})).await;
    assert_eq!(v["errcode"], 0);
    let v = post(&s, "user/update", &sync, json!({"userid": "outsider", "department": [3, 2]})).await;
    assert_eq!(v["errcode"], 81001, "{v}");
    // Sub-departments count too: neither a new one nor a moved one fits.
    let v = post(&s, "department/create", &sync, json!({"name": "One more", "parentid": 2})).await;
    assert_eq!(v["errcode"], 81001, "{v}");
    let v = post(&s, "department/create", &sync, json!({"name": "Elsewhere", "parentid": 3, "id": 90})).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let v = post(&s, "department/update", &sync, json!({"id": 90, "parentid": 2})).await;
    assert_eq!(v["errcode"], 81001, "{v}");
    let (winner, _) = answers.iter().find(|(_, v)| v["errcode"] == 0).unwrap();
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": format!("racer{winner}"), "department": [3]})).await["errcode"], 0);
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": "outsider", "department": [3, 2]})).await["errcode"], 0);
    // A member already in the full department may still be updated there.
    assert_eq!(post(&s, "user/update", &sync, json!({"userid": "seed0", "department": [2], "order": [3]})).await["errcode"], 0);
}

on_both_backends!(
    create_and_get_in_both_dialects,
    create_rules_and_errcodes,
    updates_and_the_frozen_mobile,
    racing_updates_lose_nothing,
    deletes,
    simplelist_and_list,
    list_id_pages_stably_while_members_arrive,
    lookups_and_authsucc,
    batch_invite_names_what_it_cannot_invite,
    at_most_30000_per_department_under_racing_writers,
);
