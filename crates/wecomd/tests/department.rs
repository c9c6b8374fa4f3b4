//! department/create, update, delete, list, simplelist and get over HTTP, in both dialects on one
//! corp: the rules and errcodes, the opposite order numbers over one sibling sequence, ranges,
//! change_contact events and concurrent creates.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post(s: &Server, token: &str, path: &str, body: Value) -> Value {
    s.api_post(&format!("department/{path}?access_token={token}"), body.to_string()).await
}

async fn get(s: &Server, token: &str, path_and_query: &str) -> Value {
    let sep = if path_and_query.contains('?') { '&' } else { '?' };
    s.api(&format!("department/{path_and_query}{sep}access_token={token}")).await
}

fn ids(items: &Value) -> Vec<i64> {
    items.as_array().unwrap_or_else(|| panic!("not a list: {items}")).iter().map(|d| d["id"].as_i64().unwrap()).collect()
}

fn orders(items: &Value) -> Vec<i64> {
    items.as_array().unwrap().iter().map(|d| d["order"].as_i64().unwrap()).collect()
}

/// The children of `parent` as `dialect` lists them: ids and order numbers.
async fn children(s: &Server, token: &str, parent: i64) -> (Vec<i64>, Vec<i64>) {
    let v = get(s, token, "simplelist").await;
    assert_eq!(v["errcode"], 0, "{v}");
    let kids: Vec<Value> = v["department_id"].as_array().unwrap().iter().filter(|d| d["parentid"] == parent).cloned().collect();
    let kids = Value::Array(kids);
    (ids(&kids), orders(&kids))
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

async fn create_update_delete_with_every_errcode(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;

    let v = post(&s, &sync, "create", json!({ "name": "Backend", "name_en": "BE", "parentid": 2 })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "created", "id": 4 }), "next free id");
    let v = post(&s, &sync, "create", json!({ "name": "Labs", "parentid": 1, "id": 10, "order": 5 })).await;
    assert_eq!(v["id"], 10, "{v}");
    let v = get(&s, &sync, "get?id=4").await;
    assert_eq!(v["errmsg"], "ok");
    assert_eq!(v["department"], json!({ "id": 4, "name": "Backend", "name_en": "BE", "department_leader": [], "parentid": 2, "order": 0 }));

    // Create errors, WeCom.
    for (body, errcode) in [
        (json!({ "name": "X", "parentid": 1, "id": 2 }), 60008),
        (json!({ "name": "X", "parentid": 1, "id": 1 }), 60008),
        (json!({ "name": "R&D", "parentid": 1 }), 60008),
        (json!({ "name": "X", "name_en": "BE", "parentid": 2 }), 60008),
        (json!({ "name": "", "parentid": 1 }), 60001),
        (json!({ "parentid": 1 }), 60001),
        (json!({ "name": "a".repeat(33), "parentid": 1 }), 60001),
        (json!({ "name": "a<b", "parentid": 1 }), 60009),
        (json!({ "name": "ok", "name_en": "a*b", "parentid": 1 }), 60009),
        (json!({ "name": "X", "parentid": 99 }), 60004),
        (json!({ "name": "X" }), 40058),
        (json!({ "name": "X", "parentid": 1, "order": -1 }), 40058),
        (json!({ "name": "X", "parentid": 1, "order": 4294967296u64 }), 40058),
    ] {
        assert_eq!(code(&post(&s, &sync, "create", body.clone()).await), errcode, "{body}");
    }
    assert_eq!(code(&post(&s, &sync, "create", json!({ "name": "字".repeat(32), "parentid": 1 })).await), 0, "32 characters");
    // The same rules in the legacy dialect, with its own codes where it had them; errmsg is bare.
    let v = post(&s, &legacy, "create", json!({ "name": "R&D", "parentid": 1 })).await;
    assert_eq!(v, json!({ "errcode": 60008, "errmsg": "department existed" }));
    assert_eq!(code(&post(&s, &legacy, "create", json!({ "name": "X" })).await), 60004);
    assert_eq!(code(&s.api_post(&format!("department/create?access_token={legacy}"), "{bad").await), 47001);
    let v = post(&s, &sync, "create", json!({ "name": "a|b", "parentid": 1 })).await;
    assert!(v["errmsg"].as_str().unwrap().starts_with("invalid department name, hint: ["), "{v}");

    // Updates.
    for (body, errcode) in [
        (json!({ "name": "X" }), 40058),
        (json!({ "id": 99, "name": "X" }), 60003),
        (json!({ "id": 2, "parentid": 4 }), 60010),
        (json!({ "id": 1, "parentid": 2 }), 60010),
        (json!({ "id": 2, "parentid": 99 }), 60004),
        (json!({ "id": 2, "name": "Sales" }), 60008),
        (json!({ "id": 2, "name": "" }), 60001),
        (json!({ "id": 2, "name": "a?b" }), 60009),
    ] {
        assert_eq!(code(&post(&s, &sync, "update", body.clone()).await), errcode, "{body}");
    }
    assert_eq!(code(&post(&s, &legacy, "update", json!({ "name": "X" })).await), 60003);
    let v = post(&s, &sync, "update", json!({ "id": 4, "name": "Platform", "parentid": 3 })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "updated" }));
    let v = get(&s, &legacy, "get?id=4").await;
    assert_eq!(v["department"], json!({ "id": 4, "name": "Platform", "parentid": 3, "order": 4294967295u64 }), "name_en kept: {v}");
    assert_eq!(get(&s, &sync, "get?id=4").await["department"]["name_en"], "BE");
    assert_eq!(code(&post(&s, &sync, "update", json!({ "id": 1, "name": "Renamed Corp" })).await), 0, "the root can be renamed");

    // Deletes.
    assert_eq!(code(&get(&s, &sync, "delete?id=1").await), 60007);
    assert_eq!(code(&get(&s, &sync, "delete?id=3").await), 60006, "Sales holds Platform");
    assert_eq!(code(&get(&s, &sync, "delete?id=2").await), 60005, "R&D holds zhangsan");
    assert_eq!(code(&get(&s, &sync, "delete?id=99").await), 60003);
    assert_eq!(code(&get(&s, &sync, "delete").await), 40058);
    assert_eq!(code(&get(&s, &legacy, "delete?id=abc").await), 60003);
    assert_eq!(get(&s, &sync, "delete?id=4").await, json!({ "errcode": 0, "errmsg": "deleted" }));
    assert_eq!(get(&s, &legacy, "delete?id=10").await, json!({ "errcode": 0, "errmsg": "deleted" }));
    assert_eq!(code(&get(&s, &sync, "get?id=4").await), 60003);
    assert_eq!(code(&get(&s, &sync, "list?id=10").await), 60003);
    assert_eq!(code(&get(&s, &sync, "get").await), 40058);
}

async fn depth_is_at_most_15_levels(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    // R&D is level 2; 13 more make 15.
    let mut parent = 2;
    for level in 3..=15 {
        let v = post(&s, &sync, "create", json!({ "name": format!("L{level}"), "parentid": parent })).await;
        assert_eq!(code(&v), 0, "{v}");
        parent = v["id"].as_i64().unwrap();
    }
    assert_eq!(code(&post(&s, &sync, "create", json!({ "name": "L16", "parentid": parent })).await), 81002);
    assert_eq!(code(&post(&s, &legacy, "create", json!({ "name": "L16", "parentid": parent })).await), 60002);
    // Moving Sales (one level) under level 15 is too deep as well; under level 14 it fits.
    assert_eq!(code(&post(&s, &sync, "update", json!({ "id": 3, "parentid": parent })).await), 81002);
    let v = get(&s, &sync, &format!("get?id={parent}")).await;
    let level14 = v["department"]["parentid"].as_i64().unwrap();
    assert_eq!(code(&post(&s, &sync, "update", json!({ "id": 3, "parentid": level14 })).await), 0);
}

async fn one_sequence_two_order_numbers(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;

    // The seed: R&D before Sales. WeCom numbers run down, legacy numbers up.
    let (w_ids, w_orders) = children(&s, &wecom, 1).await;
    let (l_ids, l_orders) = children(&s, &legacy, 1).await;
    assert_eq!(w_ids, [2, 3]);
    assert_eq!(l_ids, w_ids, "same sequence");
    assert!(w_orders[0] > w_orders[1], "WeCom: bigger first {w_orders:?}");
    assert!(l_orders[0] < l_orders[1], "legacy: smaller first {l_orders:?}");

    // WeCom writes orders 50 (R&D) and 200 (Sales): Sales moves first, in both views.
    for (id, order) in [(2, 50), (3, 200)] {
        assert_eq!(code(&post(&s, &wecom, "update", json!({ "id": id, "order": order })).await), 0);
    }
    assert_eq!(children(&s, &wecom, 1).await, (vec![3, 2], vec![200, 50]), "what WeCom wrote it reads back");
    assert_eq!(children(&s, &legacy, 1).await.0, [3, 2]);
    // WeCom order 100 lands between 200 and 50.
    let mid = post(&s, &wecom, "create", json!({ "name": "Mid", "parentid": 1, "order": 100 })).await["id"].as_i64().unwrap();
    assert_eq!(children(&s, &wecom, 1).await, (vec![3, mid, 2], vec![200, 100, 50]));
    let (l_ids, l_orders) = children(&s, &legacy, 1).await;
    assert_eq!(l_ids, [3, mid, 2]);
    assert!(l_orders.windows(2).all(|w| w[0] < w[1]), "legacy numbers ascend along the same sequence: {l_orders:?}");

    // Legacy order 1 lands first; legacy without an order appends.
    let first = post(&s, &legacy, "create", json!({ "name": "First", "parentid": 1, "order": 1 })).await["id"].as_i64().unwrap();
    let last = post(&s, &legacy, "create", json!({ "name": "Last", "parentid": 1 })).await["id"].as_i64().unwrap();
    let (l_ids, l_orders) = children(&s, &legacy, 1).await;
    assert_eq!(l_ids, [first, 3, mid, 2, last]);
    assert_eq!(l_orders[0], 1, "what legacy wrote it reads back");
    let (w_ids, w_orders) = children(&s, &wecom, 1).await;
    assert_eq!(w_ids, l_ids, "same sequence");
    assert!(w_orders.windows(2).all(|w| w[0] > w[1]), "{w_orders:?}");
    assert_eq!(&w_orders[1..4], [200, 100, 50], "the legacy writes left WeCom's numbers alone");

    // A legacy reorder moves Sales to the end; WeCom sees it there with its own smallest number.
    assert!(*l_orders.last().unwrap() < 4294967295, "{l_orders:?}");
    assert_eq!(code(&post(&s, &legacy, "update", json!({ "id": 3, "order": 4294967295u64 })).await), 0);
    assert_eq!(children(&s, &legacy, 1).await.0, [first, mid, 2, last, 3]);
    assert_eq!(children(&s, &wecom, 1).await, (vec![first, mid, 2, last, 3], vec![w_orders[0], 100, 50, w_orders[4], 0]));

    // The list views: legacy has 企业号's fields only; both list the same sequence in tree order.
    let w = get(&s, &wecom, "list").await;
    let l = get(&s, &legacy, "list").await;
    assert_eq!(ids(&w["department"]), ids(&l["department"]));
    assert_eq!(ids(&w["department"])[0], 1, "the root first");
    let mut keys: Vec<&str> = l["department"][1].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "name", "order", "parentid"]);
    let mut keys: Vec<&str> = w["department"][1].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["department_leader", "id", "name", "name_en", "order", "parentid"]);
    assert_eq!(
        get(&s, &wecom, "list?id=2").await["department"],
        json!([{ "id": 2, "name": "R&D", "name_en": "", "department_leader": [], "parentid": 1, "order": 50 }])
    );
}

async fn reads_and_writes_keep_to_the_callers_range(db: &Db) {
    let s = Server::start(db, &[]).await;
    let app_all = s.token(CORPID, APP_SECRET).await;
    let app_rnd = s.token(CORPID, APP2_SECRET).await;
    let group_rnd = s.token(CORPID, GROUP2_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let sub = post(&s, &sync, "create", json!({ "name": "Backend", "parentid": 2 })).await["id"].as_i64().unwrap();

    assert_eq!(ids(&get(&s, &app_all, "list").await["department"]), [1, 2, sub, 3]);
    assert_eq!(ids(&get(&s, &app_all, "list?id=2").await["department"]), [2, sub], "a department and its descendants");
    assert_eq!(ids(&get(&s, &app_rnd, "list").await["department"]), [2, sub], "app 1000003 sees R&D");
    assert_eq!(ids(&get(&s, &app_rnd, "simplelist").await["department_id"]), [2, sub]);
    assert_eq!(ids(&get(&s, &group_rnd, "list").await["department"]), [2, sub], "group 2 reads R&D");
    for q in ["list?id=3", "list?id=1", "get?id=3"] {
        assert_eq!(code(&get(&s, &app_rnd, q).await), 60011, "{q}");
        assert_eq!(code(&get(&s, &group_rnd, q).await), 60011, "{q}");
    }
    let v = get(&s, &app_rnd, "simplelist?id=3").await;
    assert_eq!(v["department_id"], json!([]), "errors keep the empty list: {v}");
    assert_eq!(v["errcode"], 60011);
    assert_eq!(get(&s, &group_rnd, "get?id=2").await["department"]["id"], 2);

    // Writes: an app may not (48002), a read-only group gets 60011, a group writes only its subtrees.
    assert_eq!(code(&post(&s, &app_all, "create", json!({ "name": "X", "parentid": 1 })).await), 48002);
    assert_eq!(code(&get(&s, &app_all, "delete?id=3").await), 48002);
    assert_eq!(code(&post(&s, &group_rnd, "create", json!({ "name": "X", "parentid": 2 })).await), 60011);
    let (st, v) =
        s.post(&format!("/corps/{CORPID}/groups"), json!({ "name": "R&D writers", "departments": [{ "id": 2, "right": "write" }] })).await;
    assert_eq!(st, 201, "{v}");
    let writer = s.token(CORPID, v["secret"].as_str().unwrap()).await;
    let v = post(&s, &writer, "create", json!({ "name": "Frontend", "parentid": 2 })).await;
    assert_eq!(code(&v), 0, "{v}");
    let front = v["id"].as_i64().unwrap();
    assert_eq!(code(&post(&s, &writer, "create", json!({ "name": "X", "parentid": 1 })).await), 60011);
    assert_eq!(code(&post(&s, &writer, "update", json!({ "id": front, "parentid": 3 })).await), 60011, "the new parent is outside");
    assert_eq!(code(&post(&s, &writer, "update", json!({ "id": 3, "name": "S" })).await), 60011);
    assert_eq!(code(&post(&s, &writer, "update", json!({ "id": front, "parentid": sub })).await), 0, "moves inside its subtree");
    assert_eq!(code(&get(&s, &writer, "delete?id=3").await), 60011);
    assert_eq!(code(&get(&s, &writer, &format!("delete?id={front}")).await), 0);
}

async fn leaders_are_members_leading_the_department(db: &Db) {
    let s = Server::start(db, &[]).await;
    seed(
        &s,
        "[[corp.member]]\nuserid = \"boss\"\nname = \"Boss\"\ndepartment = [2, 3]\nis_leader_in_dept = [2]\nmobile = \"13800000009\"\n",
    )
    .await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    assert_eq!(get(&s, &sync, "get?id=2").await["department"]["department_leader"], json!(["boss"]));
    assert_eq!(get(&s, &sync, "get?id=3").await["department"]["department_leader"], json!([]));
    assert!(get(&s, &legacy, "get?id=2").await["department"].get("department_leader").is_none(), "not a legacy field");
}

async fn seed(s: &Server, toml: &str) {
    let r = s
        .http()
        .post(s.url("/control/seed"))
        .body(format!("[[corp]]\ncorpid = \"{CORPID}\"\nname = \"Test Corp\"\n{toml}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn a_deleted_department_leaves_its_tags(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let temp = post(&s, &sync, "create", json!({ "name": "Temp", "parentid": 1 })).await["id"].as_i64().unwrap();
    let app_secret = "app-secret-1000004-xxxxxxxxxxxxxxxxxxxxxxxx";
    seed(
        &s,
        &format!(
            "[[corp.tag]]\ntagid = 2\ntagname = \"Temps\"\nowner = \"app:1000004\"\nparties = [{temp}]\n\n\
             [[corp.app]]\nagentid = 1000004\nname = \"Tagged\"\nsecret = \"{app_secret}\"\nallow_tags = [2]\n"
        ),
    )
    .await;
    assert_eq!(get(&s, &sync, &format!("delete?id={temp}")).await["errcode"], 0);
    // The next free id is the same number again; the tag must not cover the new department.
    let again = post(&s, &sync, "create", json!({ "name": "Again", "parentid": 1 })).await["id"].as_i64().unwrap();
    assert_eq!(again, temp);
    seed(
        &s,
        &format!(
            "[[corp.member]]\nuserid = \"newbie\"\nname = \"Newbie\"\ndepartment = [{again}]\nmobile = \"13800000010\"\nactive = true\n"
        ),
    )
    .await;
    let app = s.token(CORPID, app_secret).await;
    let v = s.api_post(&format!("user/convert_to_openid?access_token={app}"), json!({ "userid": "newbie" }).to_string()).await;
    assert_eq!(v["errcode"], 60011, "{v}");
}

async fn writes_record_change_contact_events(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let (_, before) = s.get(&format!("/corps/{CORPID}/events")).await;
    let after = before.as_array().unwrap().last().map_or(0, |e| e["seq"].as_i64().unwrap());

    let id = post(&s, &legacy, "create", json!({ "name": "Ops", "parentid": 3, "order": 7 })).await["id"].as_i64().unwrap();
    assert_eq!(code(&post(&s, &sync, "update", json!({ "id": id, "order": 9 })).await), 0);
    assert_eq!(code(&post(&s, &sync, "update", json!({ "id": id, "name": "DevOps", "parentid": 2 })).await), 0);
    // Failures record nothing.
    assert_eq!(code(&post(&s, &sync, "create", json!({ "name": "R&D", "parentid": 1 })).await), 60008);
    assert_eq!(code(&get(&s, &sync, "delete?id=3").await), 60005);
    assert_eq!(code(&get(&s, &legacy, &format!("delete?id={id}")).await), 0);

    let (st, v) = s.get(&format!("/corps/{CORPID}/events?after={after}")).await;
    assert_eq!(st, 200, "{v}");
    let got: Vec<(String, String, Value)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["event"], "change_contact");
            (e["origin"].as_str().unwrap().to_string(), e["change_type"].as_str().unwrap().to_string(), e["items"].clone())
        })
        .collect();
    let sid = id.to_string();
    let want = vec![
        (
            "group:1".to_string(),
            "create_party".to_string(),
            json!([["Id", sid], ["Name", "Ops"], ["ParentId", "3"], ["Order", "4294967288"]]),
        ),
        ("contact_sync".into(), "update_party".into(), json!([["Id", sid]])),
        ("contact_sync".into(), "update_party".into(), json!([["Id", sid], ["Name", "DevOps"], ["ParentId", "2"]])),
        ("group:1".into(), "delete_party".into(), json!([["Id", sid]])),
    ];
    assert_eq!(got, want);
}

async fn concurrent_creates_of_one_name_make_one_department(db: &Db) {
    let s = std::sync::Arc::new(Server::start(db, &[]).await);
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    // Distinct ids, so only the sibling-name rule can refuse them.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (s, token) = (s.clone(), if i % 2 == 0 { sync.clone() } else { legacy.clone() });
        tasks.push(tokio::spawn(async move { post(&s, &token, "create", json!({ "name": "Twin", "parentid": 2, "id": 100 + i })).await }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(code(&t.await.unwrap()));
    }
    codes.sort_unstable();
    assert_eq!(codes[0], 0);
    assert!(codes[1..].iter().all(|c| *c == 60008), "{codes:?}");
    let v = get(&s, &sync, "list?id=2").await;
    assert_eq!(v["department"].as_array().unwrap().iter().filter(|d| d["name"] == "Twin").count(), 1);

    // Different names at once: each gets its own id.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (s, token) = (s.clone(), sync.clone());
        tasks.push(tokio::spawn(async move { post(&s, &token, "create", json!({ "name": format!("N{i}"), "parentid": 3 })).await }));
    }
    let mut made = Vec::new();
    for t in tasks {
        let v = t.await.unwrap();
        assert_eq!(code(&v), 0, "{v}");
        made.push(v["id"].as_i64().unwrap());
    }
    made.sort_unstable();
    made.dedup();
    assert_eq!(made.len(), 12);
}

const FULL_CORPID: &str = "ww0000000000d30000";
const FULL_SECRET: &str = "full-sync-secret-xxxxxxxxxxxxxxxxxxxxxxxxxx";

/// A corp of its own with `departments` departments, the root included: 20 under the root and
/// the rest spread under those (no department near its own 30000 children), or, `crowded`, all
/// the rest under department 2.
fn full_seed(departments: usize, crowded: bool) -> String {
    let mut t = format!("[[corp]]\ncorpid = \"{FULL_CORPID}\"\nname = \"Full\"\ncontact_sync_secret = \"{FULL_SECRET}\"\n");
    for id in 2..=departments {
        let parentid = match (id <= 21, crowded) {
            (_, true) if id > 2 => 2,
            (true, _) => 1,
            (false, _) => 2 + id % 20,
        };
        t.push_str(&format!("\n[[corp.department]]\nid = {id}\nname = \"D{id}\"\nparentid = {parentid}\n"));
    }
    t
}

async fn load(s: &Server, seed: String) {
    let started = std::time::Instant::now();
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    eprintln!("seeding took {:?}", started.elapsed());
}

/// Sends every (path, body) at once with the contacts-sync token and answers the errcodes.
async fn race(s: &Server, token: &str, calls: Vec<(&str, Value)>) -> Vec<i64> {
    let mut racers = tokio::task::JoinSet::new();
    for (path, body) in calls {
        let (http, url) = (s.http().clone(), s.url(&format!("/cgi-bin/{path}?access_token={token}")));
        racers.spawn(async move { code(&http.post(url).body(body.to_string()).send().await.unwrap().json::<Value>().await.unwrap()) });
    }
    racers.join_all().await
}

async fn at_most_30000_departments_in_a_corp(db: &Db) {
    let s = Server::start(db, &["--no-rate-limits"]).await;
    load(&s, full_seed(29990, false)).await;
    let sync = s.token(FULL_CORPID, FULL_SECRET).await;
    // 20 creates race for the last 10 places, under 20 different parents.
    let calls = (0..20).map(|i| ("department/create", json!({"name": format!("Racer {i}"), "parentid": 2 + i}))).collect();
    let mut codes = race(&s, &sync, calls).await;
    codes.sort_unstable();
    assert_eq!(codes, [[0; 10], [81001; 10]].concat());
    let v = get(&s, &sync, "simplelist").await;
    assert_eq!(ids(&v["department_id"]).len(), 30000);
    let v = post(&s, &sync, "create", json!({"name": "One more", "parentid": 1})).await;
    assert_eq!(code(&v), 81001, "{v}");
    // Moving is no new department; deleting one makes room again.
    assert_eq!(code(&post(&s, &sync, "update", json!({"id": 30, "parentid": 3})).await), 0);
    assert_eq!(code(&get(&s, &sync, "delete?id=30").await), 0);
    assert_eq!(code(&post(&s, &sync, "create", json!({"name": "One more", "parentid": 1})).await), 0);
}

async fn department_and_member_creates_share_the_last_places(db: &Db) {
    let s = Server::start(db, &["--no-rate-limits"]).await;
    // Department 2 holds 29980 sub-departments: 20 places left for members and sub-departments
    // together (and 18 departments left in the corp, more than the 10 department creates below).
    load(&s, full_seed(29982, true)).await;
    let sync = s.token(FULL_CORPID, FULL_SECRET).await;
    let mut calls: Vec<(&str, Value)> = Vec::new();
    for i in 0..20 {
        if i < 10 {
            calls.push(("department/create", json!({"name": format!("Sub {i}"), "parentid": 2})));
        }
        calls.push((
            "user/create",
            json!({"userid": format!("racer{i}"), "name": "R", "department": [2], "email": format!("r{i}@example.com")}),
        ));
    }
    let mut codes = race(&s, &sync, calls).await;
    codes.sort_unstable();
    assert_eq!(codes, [vec![0; 20], vec![81001; 10]].concat());
    let subs = ids(&get(&s, &sync, "simplelist?id=2").await["department_id"]).len() - 1;
    let v = s.api(&format!("user/simplelist?access_token={sync}&department_id=2")).await;
    let members = v["userlist"].as_array().unwrap().len();
    assert_eq!(subs + members, 30000, "{subs} sub-departments and {members} members");
}

on_both_backends!(
    create_update_delete_with_every_errcode,
    depth_is_at_most_15_levels,
    one_sequence_two_order_numbers,
    reads_and_writes_keep_to_the_callers_range,
    leaders_are_members_leading_the_department,
    writes_record_change_contact_events,
    a_deleted_department_leaves_its_tags,
    concurrent_creates_of_one_name_make_one_department,
    at_most_30000_departments_in_a_corp,
    department_and_member_creates_share_the_last_places,
);
