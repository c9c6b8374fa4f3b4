//! tag/* over HTTP in both dialects: tagid and tagname rules, ownership (WeCom: the creating app;
//! 企业号: the creating 管理组, locked by default), partial results with their exact types, the
//! 30000-node cap, and the update_tag events.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post(s: &Server, path: &str, token: &str, body: Value) -> Value {
    s.api_post(&format!("tag/{path}?access_token={token}"), body.to_string()).await
}

async fn get(s: &Server, path: &str, token: &str, query: &str) -> Value {
    s.api(&format!("tag/{path}?access_token={token}{query}")).await
}

async fn create(s: &Server, token: &str, name: &str) -> i64 {
    let v = post(s, "create", token, json!({ "tagname": name })).await;
    assert_eq!(v["errcode"], 0, "{v}");
    v["tagid"].as_i64().unwrap()
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

/// The WeCom errmsg starts with the code's text, then the hint.
fn text_is(v: &Value, text: &str) {
    let m = v["errmsg"].as_str().unwrap();
    assert!(m.starts_with(&format!("{text}, hint: [")), "{m}");
}

async fn events(s: &Server, after: i64) -> Vec<Value> {
    let (st, v) = s.get(&format!("/corps/{CORPID}/events?after={after}")).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().iter().filter(|e| e["change_type"] == "update_tag").cloned().collect()
}

async fn last_seq(s: &Server) -> i64 {
    let (_, v) = s.get(&format!("/corps/{CORPID}/events")).await;
    v.as_array().unwrap().last().map_or(0, |e| e["seq"].as_i64().unwrap())
}

/// The test seed again with tag 20 owned by group 1 and granted to group 2 (locked by default).
async fn grant_tag_20_to_group_2(s: &Server) {
    let seed = SEED
        .replacen("[[corp.group]]", "[[corp.tag]]\ntagid = 20\ntagname = \"Shared\"\nowner = \"group:1\"\n\n[[corp.group]]", 1)
        .replace("tags = [1]\n", "tags = [1, 20]\n")
        .replace("departments = [{ id = 2, right = \"read\" }]", "departments = [{ id = 2, right = \"read\" }]\ntags = [20]");
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn names_and_ids(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;

    let v = post(&s, "create", &app, json!({ "tagname": "UI" })).await;
    assert_eq!(v["errmsg"], "created");
    assert_eq!(v["tagid"], 2, "auto id is the highest plus one: {v}");
    assert_eq!(post(&s, "create", &app, json!({ "tagname": "Ten", "tagid": 10 })).await["tagid"], 10);
    let v = post(&s, "create", &app, json!({ "tagname": "Other", "tagid": 10 })).await;
    assert_eq!(code(&v), 40068, "a taken tagid: {v}");
    text_is(&v, "invalid tagid");
    assert_eq!(code(&post(&s, "create", &app, json!({ "tagname": "Neg", "tagid": -1 })).await), 40068);
    let v = post(&s, "create", &app, json!({ "tagname": "UI" })).await;
    assert_eq!(code(&v), 40071, "names are unique in the corp: {v}");
    text_is(&v, "invalid tag name");
    assert_eq!(code(&post(&s, "create", &legacy, json!({ "tagname": "UI" })).await), 40071, "across dialects too");
    let v = post(&s, "create", &app, json!({ "tagid": 30 })).await;
    assert_eq!(code(&v), 41018, "{v}");
    text_is(&v, "tagname missing");
    assert_eq!(code(&post(&s, "create", &app, json!({ "tagname": "" })).await), 40072);
    assert_eq!(code(&post(&s, "create", &app, json!({ "tagname": "a".repeat(33) })).await), 40072);
    let han = "标".repeat(32);
    let v = post(&s, "create", &app, json!({ "tagname": han, "tagid": "12" })).await;
    assert_eq!(v["tagid"], 12, "32 characters fit; a digit-string tagid is read: {v}");
    assert_eq!(post(&s, "create", &app, json!({ "tagname": "Next" })).await["tagid"], 13);
    assert_eq!(code(&post(&s, "create", &app, json!({ "tagname": 5 })).await), 40058, "wrong type");
    assert_eq!(code(&post(&s, "create", &legacy, json!({ "tagname": 5 })).await), 47001);

    // update: both fields required, the name stays unique.
    let v = post(&s, "update", &app, json!({ "tagname": "X" })).await;
    assert_eq!(code(&v), 41017, "{v}");
    text_is(&v, "tagid missing");
    assert_eq!(code(&post(&s, "update", &app, json!({ "tagid": 99, "tagname": "X" })).await), 40068);
    assert_eq!(code(&post(&s, "update", &app, json!({ "tagid": 2 })).await), 41018);
    assert_eq!(code(&post(&s, "update", &app, json!({ "tagid": 2, "tagname": "Ten" })).await), 40071);
    assert_eq!(
        post(&s, "update", &app, json!({ "tagid": 2, "tagname": "UI" })).await,
        json!({ "errcode": 0, "errmsg": "updated" }),
        "its own name"
    );
    assert_eq!(post(&s, "update", &app, json!({ "tagid": 2, "tagname": "UX" })).await, json!({ "errcode": 0, "errmsg": "updated" }));
    assert_eq!(
        get(&s, "get", &app, "&tagid=2").await,
        json!({ "errcode": 0, "errmsg": "ok", "tagname": "UX", "userlist": [], "partylist": [] })
    );

    // list: every WeCom caller sees every tag, in id order.
    let ids = |v: &Value| v["taglist"].as_array().unwrap().iter().map(|t| t["tagid"].as_i64().unwrap()).collect::<Vec<_>>();
    let v = get(&s, "list", &app, "").await;
    assert_eq!(ids(&v), vec![1, 2, 10, 12, 13]);
    assert_eq!(v["taglist"][1], json!({ "tagid": 2, "tagname": "UX" }));
    assert_eq!(ids(&get(&s, "list", &s.token(CORPID, APP2_SECRET).await, "").await), vec![1, 2, 10, 12, 13]);
    assert_eq!(ids(&get(&s, "list", &s.token(CORPID, SYNC_SECRET).await, "").await), vec![1, 2, 10, 12, 13]);

    // get / delete: tagid from the query.
    assert_eq!(code(&get(&s, "get", &app, "").await), 41017);
    assert_eq!(code(&get(&s, "get", &app, "&tagid=abc").await), 40068);
    assert_eq!(code(&get(&s, "get", &app, "&tagid=404").await), 40068);
    assert_eq!(code(&get(&s, "delete", &app, "").await), 41017);
    assert_eq!(code(&get(&s, "delete", &app, "&tagid=x").await), 40068);
    assert_eq!(code(&get(&s, "delete", &app, "&tagid=404").await), 40068);
    assert_eq!(get(&s, "delete", &app, "&tagid=13").await, json!({ "errcode": 0, "errmsg": "deleted" }));
    assert_eq!(code(&get(&s, "get", &app, "&tagid=13").await), 40068);
    assert_eq!(post(&s, "create", &app, json!({ "tagname": "Next" })).await["tagid"], 13, "the name and id are free again");
}

async fn wecom_tags_belong_to_their_app(db: &Db) {
    let s = Server::start(db, &[]).await;
    let a = s.token(CORPID, APP_SECRET).await;
    let b = s.token(CORPID, APP2_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let t = create(&s, &a, "A's").await;
    let add = json!({ "tagid": t, "userlist": ["zhangsan"] });

    for caller in [&b, &sync] {
        let v = post(&s, "update", caller, json!({ "tagid": t, "tagname": "B's" })).await;
        assert_eq!(code(&v), 81011, "{v}");
        text_is(&v, "no privilege to operate tag");
        assert_eq!(code(&post(&s, "addtagusers", caller, add.clone()).await), 81011);
        assert_eq!(code(&post(&s, "deltagusers", caller, add.clone()).await), 81011);
        assert_eq!(code(&get(&s, "delete", caller, &format!("&tagid={t}")).await), 81011);
    }
    assert_eq!(code(&get(&s, "get", &b, &format!("&tagid={t}")).await), 0, "any app reads any tag");

    // The contacts-sync secret owns what it creates (the admin's tags); the apps may not touch them.
    let admin = create(&s, &sync, "Admin's").await;
    assert_eq!(code(&post(&s, "addtagusers", &sync, json!({ "tagid": admin, "userlist": ["wangwu"] })).await), 0);
    assert_eq!(code(&post(&s, "addtagusers", &a, json!({ "tagid": admin, "userlist": ["wangwu"] })).await), 81011);
    // A 管理组's tag is not an app's either.
    assert_eq!(code(&post(&s, "update", &a, json!({ "tagid": 1, "tagname": "Mine" })).await), 81011);

    // The owner does everything, and WeCom deletes a tag that still has members.
    assert_eq!(post(&s, "addtagusers", &a, add.clone()).await, json!({ "errcode": 0, "errmsg": "ok" }));
    assert_eq!(code(&post(&s, "update", &a, json!({ "tagid": t, "tagname": "A's own" })).await), 0);
    assert_eq!(get(&s, "delete", &a, &format!("&tagid={t}")).await, json!({ "errcode": 0, "errmsg": "deleted" }));
    assert_eq!(code(&get(&s, "get", &a, &format!("&tagid={t}")).await), 40068);
}

async fn legacy_tags_belong_to_their_group_and_lock(db: &Db) {
    let s = Server::start(db, &[]).await;
    let g1 = s.token(CORPID, GROUP_SECRET).await;
    let g2 = s.token(CORPID, GROUP2_SECRET).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let ids = |v: &Value| v["taglist"].as_array().unwrap().iter().map(|t| t["tagid"].as_i64().unwrap()).collect::<Vec<_>>();

    // A group's new tag is visible to it and to no other group.
    let own = create(&s, &g1, "Group 1's").await;
    assert_eq!(ids(&get(&s, "list", &g1, "").await), vec![1, own]);
    assert_eq!(get(&s, "list", &g2, "").await, json!({ "errcode": 0, "errmsg": "ok", "taglist": [] }));
    let v = get(&s, "get", &g2, &format!("&tagid={own}")).await;
    assert_eq!(v, json!({ "errcode": 60011, "errmsg": "no privilege to access/modify contact/party/agent" }), "bare legacy errmsg");
    assert_eq!(code(&post(&s, "addtagusers", &g2, json!({ "tagid": own, "userlist": ["zhangsan"] })).await), 60011);
    assert_eq!(code(&post(&s, "addtagusers", &app, json!({ "tagid": own, "userlist": ["zhangsan"] })).await), 81011, "nor an app's");

    // Tag 20: group 1's, granted to group 2, locked.
    grant_tag_20_to_group_2(&s).await;
    assert_eq!(ids(&get(&s, "list", &g2, "").await), vec![20]);
    let zhangsan = json!({ "tagid": 20, "userlist": ["zhangsan"] });
    assert_eq!(
        get(&s, "get", &g2, "&tagid=20").await,
        json!({ "errcode": 0, "errmsg": "ok", "userlist": [], "partylist": [] }),
        "no tagname in 企业号"
    );
    assert_eq!(code(&post(&s, "addtagusers", &g2, zhangsan.clone()).await), 60011, "locked");
    assert_eq!(code(&post(&s, "deltagusers", &g2, zhangsan.clone()).await), 60011, "locked");

    let (st, v) = s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/tags/20/lock"), Some(json!({ "locked": false }))).await;
    assert_eq!(st, 200, "{v}");
    // Unlocked: group 2 changes members within its own range (R&D); wangwu (Sales) is outside.
    let v = post(&s, "addtagusers", &g2, json!({ "tagid": 20, "userlist": ["zhangsan", "wangwu"], "partylist": [2, 3] })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "invalid userlist failed", "invalidlist": "wangwu", "invalidparty": [3] }));
    let v = get(&s, "get", &g2, "&tagid=20").await;
    assert_eq!(v["userlist"], json!([{ "userid": "zhangsan", "name": "Zhang San" }]));
    assert_eq!(v["partylist"], json!([2]));
    assert_eq!(post(&s, "deltagusers", &g2, json!({ "tagid": 20, "partylist": [2] })).await, json!({ "errcode": 0, "errmsg": "deleted" }));
    let v = post(&s, "addtagusers", &g2, json!({ "tagid": 20, "userlist": ["wangwu"] })).await;
    assert_eq!(v, json!({ "errcode": 40070, "errmsg": "all list invalid ", "invalidlist": "wangwu" }));
    // Only the owner renames or deletes, locked or not.
    assert_eq!(code(&post(&s, "update", &g2, json!({ "tagid": 20, "tagname": "Taken over" })).await), 60011);
    assert_eq!(code(&get(&s, "delete", &g2, "&tagid=20").await), 60011);

    // The owner may not delete a tag that still has members (60016).
    let v = get(&s, "delete", &g1, "&tagid=20").await;
    assert_eq!(v, json!({ "errcode": 60016, "errmsg": "tag contains members" }));
    assert_eq!(post(&s, "deltagusers", &g1, zhangsan.clone()).await, json!({ "errcode": 0, "errmsg": "deleted" }));
    assert_eq!(post(&s, "update", &g1, json!({ "tagid": 20, "tagname": "Renamed" })).await, json!({ "errcode": 0, "errmsg": "updated" }));
    assert_eq!(get(&s, "delete", &g1, "&tagid=20").await, json!({ "errcode": 0, "errmsg": "deleted" }));
    assert_eq!(ids(&get(&s, "list", &g2, "").await), Vec::<i64>::new(), "the grant went with the tag");
}

async fn partial_results(db: &Db) {
    let s = Server::start(db, &[]).await;
    let a = s.token(CORPID, APP_SECRET).await;
    let b = s.token(CORPID, APP2_SECRET).await;
    let t = create(&s, &a, "Partial").await;

    // Unknown users and parties are reported with the platform's types: string and int array.
    let v =
        post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": ["zhangsan", "nobody", "ZHANGSAN", "ghost"], "partylist": [2, 99] }))
            .await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok", "invalidlist": "nobody|ghost", "invalidparty": [99] }));
    let v = post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": ["wangwu"] })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }), "no invalid fields when none is invalid");

    // Everything invalid: 40070 for add, 40031 for delete, the lists still in the answer.
    let v = post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": ["x", "y"], "partylist": [99] })).await;
    assert_eq!(code(&v), 40070, "{v}");
    text_is(&v, "all list invalid ");
    assert_eq!(v["invalidlist"], "x|y");
    assert_eq!(v["invalidparty"], json!([99]));
    let v = post(&s, "deltagusers", &a, json!({ "tagid": t, "partylist": [98] })).await;
    assert_eq!(code(&v), 40031, "{v}");
    text_is(&v, "all list invalid");
    assert_eq!(v["invalidparty"], json!([98]));
    assert!(v.get("invalidlist").is_none(), "{v}");

    // A tag of app 1000003 (sees R&D only): Sales is outside its range, so invalid.
    let tb = create(&s, &b, "R&D only").await;
    let v = post(&s, "addtagusers", &b, json!({ "tagid": tb, "userlist": ["zhangsan", "wangwu"], "partylist": [2, 3] })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok", "invalidlist": "wangwu", "invalidparty": [3] }));
    // And it reads only its range of app 1000002's tag.
    let v = get(&s, "get", &b, &format!("&tagid={t}")).await;
    assert_eq!(
        v,
        json!({ "errcode": 0, "errmsg": "ok", "tagname": "Partial", "userlist": [{ "userid": "zhangsan", "name": "Zhang San" }], "partylist": [2] })
    );
    let v = get(&s, "get", &a, &format!("&tagid={t}")).await;
    assert_eq!(v["userlist"], json!([{ "userid": "wangwu", "name": "Wang Wu" }, { "userid": "zhangsan", "name": "Zhang San" }]));

    // Removing: a valid member not in the tag is no error; the answer says "deleted".
    let v = post(&s, "deltagusers", &a, json!({ "tagid": t, "userlist": ["zhangsan", "lisi", "nobody"], "partylist": [2] })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "deleted", "invalidlist": "nobody" }));
    assert_eq!(get(&s, "get", &a, &format!("&tagid={t}")).await["userlist"], json!([{ "userid": "wangwu", "name": "Wang Wu" }]));

    // Request rules, before the tag is looked at.
    assert_eq!(code(&post(&s, "addtagusers", &a, json!({ "tagid": t })).await), 40035);
    let v = post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": [], "partylist": [] })).await;
    assert_eq!(code(&v), 40035);
    text_is(&v, "invalid parameter");
    let many: Vec<String> = (0..1001).map(|i| format!("u{i}")).collect();
    let v = post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": many })).await;
    assert_eq!(code(&v), 81014, "{}", v["errmsg"]);
    let parties: Vec<i64> = (0..101).collect();
    assert_eq!(code(&post(&s, "deltagusers", &a, json!({ "tagid": t, "partylist": parties })).await), 81014);
    assert_eq!(code(&post(&s, "addtagusers", &a, json!({ "userlist": ["zhangsan"] })).await), 41017);
    assert_eq!(
        code(&post(&s, "addtagusers", &a, json!({ "tagid": 404, "userlist": ["nobody"] })).await),
        40068,
        "an unknown tag before invalid users"
    );
    assert_eq!(
        code(&post(&s, "addtagusers", &b, json!({ "tagid": t, "userlist": ["nobody"] })).await),
        81011,
        "ownership before invalid users"
    );
    assert_eq!(code(&post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": "zhangsan" })).await), 40058, "a string for a list");
}

async fn update_tag_events(db: &Db) {
    let s = Server::start(db, &[]).await;
    let a = s.token(CORPID, APP_SECRET).await;
    let g1 = s.token(CORPID, GROUP_SECRET).await;
    let t = create(&s, &a, "Evented").await;
    let before = last_seq(&s).await;
    assert!(events(&s, before).await.is_empty(), "creating a tag records no update_tag");

    post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": ["zhangsan", "WangWu", "nobody"], "partylist": [2, 3] })).await;
    let e = events(&s, before).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["origin"], "app:1000002");
    assert_eq!(e[0]["event"], "change_contact");
    assert_eq!(e[0]["items"], json!([["TagId", t.to_string()], ["AddUserItems", "zhangsan,wangwu"], ["AddPartyItems", "2,3"]]));

    // Nothing changed (already there), no event; only what changed is listed.
    let seq = last_seq(&s).await;
    post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": ["zhangsan"] })).await;
    assert!(events(&s, seq).await.is_empty());
    post(&s, "deltagusers", &a, json!({ "tagid": t, "userlist": ["zhangsan", "lisi"] })).await;
    let e = events(&s, seq).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["items"], json!([["TagId", t.to_string()], ["DelUserItems", "zhangsan"]]));

    // Refused calls record nothing.
    let seq = last_seq(&s).await;
    let b = s.token(CORPID, APP2_SECRET).await;
    post(&s, "deltagusers", &b, json!({ "tagid": t, "partylist": [2] })).await;
    post(&s, "addtagusers", &a, json!({ "tagid": t, "userlist": ["nobody"] })).await;
    assert!(events(&s, seq).await.is_empty());

    // A 管理组's change carries its origin.
    post(&s, "deltagusers", &g1, json!({ "tagid": 1, "userlist": ["zhangsan"] })).await;
    let e = events(&s, seq).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["origin"], "group:1");
    assert_eq!(e[0]["items"], json!([["TagId", "1"], ["DelUserItems", "zhangsan"]]));
}

/// Racing writers: one name wins, automatic ids never collide, every member change is kept.
async fn concurrent_writes(db: &Db) {
    let s = std::sync::Arc::new(Server::start(db, &[]).await);
    let a = s.token(CORPID, APP_SECRET).await;
    let spawn_all = |bodies: Vec<(&'static str, Value)>| {
        let handles: Vec<_> = bodies
            .into_iter()
            .map(|(path, body)| {
                let (s, a) = (s.clone(), a.clone());
                tokio::spawn(async move { post(&s, path, &a, body).await })
            })
            .collect();
        async move {
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.unwrap());
            }
            out
        }
    };
    let same = spawn_all((0..16).map(|_| ("create", json!({ "tagname": "Race" }))).collect()).await;
    let codes: Vec<i64> = same.iter().map(code).collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 40071).count(), 15, "{codes:?}");

    let distinct = spawn_all((0..16).map(|i| ("create", json!({ "tagname": format!("T{i}") }))).collect()).await;
    let mut ids: Vec<i64> = distinct.iter().map(|v| v["tagid"].as_i64().unwrap_or_else(|| panic!("{v}"))).collect();
    ids.sort_unstable();
    assert_eq!(ids, (3..19).collect::<Vec<_>>(), "tag 1 seeded, 2 the race's winner");

    let seq = last_seq(&s).await;
    let adds =
        spawn_all(["zhangsan", "wangwu", "lisi"].iter().map(|u| ("addtagusers", json!({ "tagid": 2, "userlist": [u] }))).collect()).await;
    assert!(adds.iter().all(|v| code(v) == 0), "{adds:?}");
    assert_eq!(get(&s, "get", &a, "&tagid=2").await["userlist"].as_array().unwrap().len(), 3);
    assert_eq!(events(&s, seq).await.len(), 3);
}

/// 30000 users and parties per tag at most; a call that would pass it changes nothing.
async fn thirty_thousand_nodes(db: &Db) {
    let s = Server::start(db, &[]).await;
    // 29999 members and tag 40 holding them all, through the control API in parts that fit its
    // body limit.
    let corp = format!("[[corp]]\ncorpid = \"{CORPID}\"\nname = \"Test Corp\"\ncontact_sync_secret = \"{SYNC_SECRET}\"\n\n");
    let seed = |body: String| async {
        let r = s.http().post(s.url("/control/seed")).body(body).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    };
    for part in 0..6 {
        let mut body = corp.clone();
        for i in part * 5000..(part * 5000 + 5000).min(29_999) {
            body.push_str(&format!(
                "[[corp.member]]\nuserid = \"m{i}\"\nname = \"M{i}\"\ndepartment = [1]\nemail = \"m{i}@example.com\"\n\n"
            ));
        }
        seed(body).await;
    }
    let users = (0..29_999).map(|i| format!("\"m{i}\"")).collect::<Vec<_>>().join(",");
    let app = format!("[[corp.app]]\nagentid = 1000002\nname = \"Notify\"\nsecret = \"{APP_SECRET}\"\nallow_parties = [1]\n\n");
    seed(format!("{corp}{app}[[corp.tag]]\ntagid = 40\ntagname = \"Big\"\nowner = \"app:1000002\"\nusers = [{users}]\n")).await;

    let a = s.token(CORPID, APP_SECRET).await;
    let seq = last_seq(&s).await;
    let v = post(&s, "addtagusers", &a, json!({ "tagid": 40, "userlist": ["zhangsan"], "partylist": [2] })).await;
    assert_eq!(code(&v), 81003, "{v}");
    text_is(&v, "tag nodes exceed 30000");
    assert!(events(&s, seq).await.is_empty());
    assert_eq!(
        post(&s, "addtagusers", &a, json!({ "tagid": 40, "partylist": [2] })).await,
        json!({ "errcode": 0, "errmsg": "ok" }),
        "the 30000th"
    );
    assert_eq!(code(&post(&s, "addtagusers", &a, json!({ "tagid": 40, "userlist": ["zhangsan"] })).await), 81003);
    let v = get(&s, "get", &a, "&tagid=40").await;
    assert_eq!(v["userlist"].as_array().unwrap().len(), 29_999);
    assert_eq!(v["partylist"], json!([2]));
}

async fn legacy_tag_get_needs_the_groups_api_switch(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (g1, app) = (s.token(CORPID, GROUP_SECRET).await, s.token(CORPID, APP_SECRET).await);
    assert_eq!(code(&get(&s, "get", &g1, "&tagid=1").await), 0, "on unless switched off");

    let path = format!("/corps/{CORPID}/groups/1/get_tag_members");
    let switch = |on: bool| s.control(reqwest::Method::PUT, &path, Some(json!({ "enabled": on })));
    assert_eq!(switch(false).await.0, 200);
    let v = get(&s, "get", &g1, "&tagid=1").await;
    assert_eq!(v, json!({ "errcode": 48002, "errmsg": "api forbidden" }), "checked before the tag: {v}");
    assert_eq!(code(&get(&s, "get", &g1, "&tagid=404").await), 48002);
    assert_eq!(code(&get(&s, "list", &g1, "").await), 0, "only tag/get needs it");
    assert_eq!(code(&post(&s, "addtagusers", &g1, json!({ "tagid": 1, "userlist": ["lisi"] })).await), 0);
    assert_eq!(code(&get(&s, "get", &app, "&tagid=1").await), 0, "WeCom has no such switch");
    let (_, corp) = s.get(&format!("/corps/{CORPID}")).await;
    assert_eq!(corp["groups"][0]["get_tag_members"], false);
    assert_eq!(switch(true).await.0, 200);
    assert_eq!(code(&get(&s, "get", &g1, "&tagid=1").await), 0);
    assert_eq!(
        s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/groups/9/get_tag_members"), Some(json!({ "enabled": true }))).await.0,
        404
    );

    // A seed can switch it off too.
    let seed = SEED.replacen("tags = [1]\n", "tags = [1]\nget_tag_members = false\n", 1);
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(code(&get(&s, "get", &g1, "&tagid=1").await), 48002);
}

/// Members deleted while an addtagusers names them: each is either added then removed with the
/// member, or invalid; no tag_users row outlives its member (a new member given the same userid
/// would otherwise find itself in the tag).
async fn members_deleted_while_being_tagged_leave_nothing(db: &Db) {
    let s = Server::start(db, &["--no-rate-limits"]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let tagid = create(&s, &sync, "Racing").await;
    let userids: Vec<String> = (0..20).map(|i| format!("racer{i}")).collect();
    let create_all = || async {
        for u in &userids {
            let body = json!({ "userid": u, "name": "R", "department": [2], "email": format!("{u}@example.com") });
            assert_eq!(code(&s.api_post(&format!("user/create?access_token={sync}"), body.to_string()).await), 0);
        }
    };
    for round in 0..5 {
        create_all().await;
        let mut racers = tokio::task::JoinSet::new();
        for chunk in userids.chunks(5) {
            let (http, url) = (s.http().clone(), s.url(&format!("/cgi-bin/tag/addtagusers?access_token={sync}")));
            let body = json!({ "tagid": tagid, "userlist": chunk });
            racers.spawn(async move { code(&http.post(url).body(body.to_string()).send().await.unwrap().json::<Value>().await.unwrap()) });
        }
        for u in userids.iter().rev() {
            let (http, url) = (s.http().clone(), s.url(&format!("/cgi-bin/user/delete?access_token={sync}&userid={u}")));
            racers.spawn(async move { code(&http.get(url).send().await.unwrap().json::<Value>().await.unwrap()) });
        }
        let codes = racers.join_all().await;
        assert!(codes.iter().all(|c| [0, 40070].contains(c)), "round {round}: {codes:?}");
        // Every member is gone, so the tag is empty, also for members born again with those ids.
        create_all().await;
        let v = get(&s, "get", &sync, &format!("&tagid={tagid}")).await;
        assert_eq!(v["userlist"], json!([]), "round {round}: {v}");
        for u in &userids {
            assert_eq!(code(&s.api(&format!("user/delete?access_token={sync}&userid={u}")).await), 0);
        }
    }
}

on_both_backends!(
    names_and_ids,
    wecom_tags_belong_to_their_app,
    legacy_tags_belong_to_their_group_and_lock,
    partial_results,
    update_tag_events,
    concurrent_writes,
    thirty_thousand_nodes,
    legacy_tag_get_needs_the_groups_api_switch,
    members_deleted_while_being_tagged_leave_nothing,
);
