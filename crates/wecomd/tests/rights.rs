//! Who may change contacts: the contacts-sync secret everything, a self-built app nothing unless
//! granted contact edit (then its visible departments), a 管理组 its write subtrees. Deleting a
//! department, tag or member takes it out of apps' visible ranges and groups' rights; the contacts-sync
//! secret reads contact details only from the IPs it read from before 2022-08-15 (48009).

mod common;

use common::*;
use serde_json::{json, Value};

const EDITOR_SECRET: &str = "editor-app-secret-xxxxxxxxxxxxxxxxxxxxxxxx";

async fn create_department(s: &Server, token: &str, name: &str, parentid: i64) -> Value {
    s.api_post(&format!("department/create?access_token={token}"), json!({ "name": name, "parentid": parentid }).to_string()).await
}

async fn only_granted_credentials_write(db: &Db) {
    let s = Server::start(db, &[]).await;
    // An app granted contact edit that sees R&D (2).
    let seed = format!(
        "[[corp]]\ncorpid = \"{CORPID}\"\nname = \"Test Corp\"\n[[corp.app]]\nagentid = 1000004\nname = \"Editor\"\nsecret = \"{EDITOR_SECRET}\"\nallow_parties = [2]\ncontact_edit = true\n"
    );
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let editor = s.token(CORPID, EDITOR_SECRET).await;
    let v = create_department(&s, &editor, "Platform", 2).await;
    assert_eq!(v["errcode"], 0, "inside its visible range: {v}");
    assert_eq!(v["errmsg"], "created");
    let v = create_department(&s, &editor, "Outside", 3).await;
    assert_eq!(v["errcode"], 60011, "outside its visible range: {v}");

    let plain = s.token(CORPID, APP_SECRET).await;
    let v = create_department(&s, &plain, "Nope", 2).await;
    assert_eq!(v["errcode"], 48002, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("api forbidden, hint: ["));

    let sync = s.token(CORPID, SYNC_SECRET).await;
    assert_eq!(create_department(&s, &sync, "Anywhere", 3).await["errcode"], 0);

    let reader = s.token(CORPID, GROUP2_SECRET).await;
    assert_eq!(create_department(&s, &reader, "Read only", 2).await["errcode"], 60011, "group 2 only reads R&D");
    let writer = s.token(CORPID, GROUP_SECRET).await;
    assert_eq!(create_department(&s, &writer, "Legacy made", 3).await["errcode"], 0, "group 1 writes the whole tree");
}

const WATCHER_SECRET: &str = "watcher-app-secret-xxxxxxxxxxxxxxxxxxxxxxx";
const KEEPER_SECRET: &str = "group-secret-3-xxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// The test corp plus department 4 (Temp, under the root) holding temp1, tag 30 (the admin's,
/// holding lisi), app 1000004 seeing only department 4 and tag 30, and group 3 writing department
/// 4 and granted tag 30.
async fn with_watchers(s: &Server) {
    let seed = format!(
        "[[corp]]\ncorpid = \"{CORPID}\"\nname = \"Test Corp\"\n\
         [[corp.department]]\nid = 4\nname = \"Temp\"\nparentid = 1\n\
         [[corp.member]]\nuserid = \"temp1\"\nname = \"T\"\ndepartment = [4]\nemail = \"t1@example.com\"\n\
         [[corp.tag]]\ntagid = 30\ntagname = \"Watched\"\nowner = \"contact_sync\"\nusers = [\"lisi\"]\n\
         [[corp.app]]\nagentid = 1000004\nname = \"Watcher\"\nsecret = \"{WATCHER_SECRET}\"\nallow_parties = [4]\nallow_tags = [30]\n\
         [[corp.group]]\ngroupid = 3\nname = \"Keeper\"\nsecret = \"{KEEPER_SECRET}\"\ndepartments = [{{ id = 4, right = \"write\" }}]\ntags = [30]\n"
    );
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn user_get(s: &Server, token: &str, userid: &str) -> i64 {
    s.api(&format!("user/get?access_token={token}&userid={userid}")).await["errcode"].as_i64().unwrap()
}

/// The watcher app's allow lists and group 3's departments and tags, from the control API.
async fn rights(s: &Server) -> (Value, Value, Value, Value) {
    let (_, corp) = s.get(&format!("/corps/{CORPID}")).await;
    let app = corp["apps"].as_array().unwrap().iter().find(|a| a["agentid"] == 1000004).unwrap().clone();
    let group = corp["groups"].as_array().unwrap().iter().find(|g| g["groupid"] == 3).unwrap().clone();
    (app["allow_parties"].clone(), app["allow_tags"].clone(), group["departments"].clone(), group["tags"].clone())
}

async fn a_deleted_department_leaves_no_rights_behind(db: &Db) {
    let s = Server::start(db, &[]).await;
    with_watchers(&s).await;
    let (sync, watcher, keeper) =
        (s.token(CORPID, SYNC_SECRET).await, s.token(CORPID, WATCHER_SECRET).await, s.token(CORPID, KEEPER_SECRET).await);
    // Both see department 4 (and so their ranges are cached).
    assert_eq!(user_get(&s, &watcher, "temp1").await, 0);
    assert_eq!(user_get(&s, &keeper, "temp1").await, 0);
    assert_eq!(s.api(&format!("department/get?access_token={watcher}&id=4")).await["errcode"], 0);

    assert_eq!(s.api(&format!("user/delete?access_token={sync}&userid=temp1")).await["errcode"], 0);
    assert_eq!(s.api(&format!("department/delete?access_token={sync}&id=4")).await["errcode"], 0);
    let (parties, tags, departments, _) = rights(&s).await;
    assert_eq!((parties, tags, departments), (json!([]), json!([30]), json!([])));

    // A new department 4 with a new member: not visible to those that saw the old one.
    let v = s
        .api_post(&format!("department/create?access_token={sync}"), json!({"name": "Temp again", "parentid": 1, "id": 4}).to_string())
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let body = json!({"userid": "temp2", "name": "T2", "department": [4], "email": "t2@example.com"});
    assert_eq!(s.api_post(&format!("user/create?access_token={sync}"), body.to_string()).await["errcode"], 0);
    assert_eq!(user_get(&s, &watcher, "temp2").await, 60111, "outside the range: \"not found\"");
    assert_eq!(s.api(&format!("department/get?access_token={watcher}&id=4")).await["errcode"], 60011);
    let v = s.api(&format!("department/list?access_token={watcher}")).await;
    assert_eq!(v["department"], json!([]), "{v}");
    assert_ne!(user_get(&s, &keeper, "temp2").await, 0);
    assert_eq!(create_department(&s, &keeper, "Under the new 4", 4).await["errcode"], 60011);
}

async fn a_deleted_tag_leaves_no_rights_behind(db: &Db) {
    let s = Server::start(db, &[]).await;
    with_watchers(&s).await;
    let (sync, watcher, keeper) =
        (s.token(CORPID, SYNC_SECRET).await, s.token(CORPID, WATCHER_SECRET).await, s.token(CORPID, KEEPER_SECRET).await);
    assert_eq!(user_get(&s, &watcher, "lisi").await, 0, "lisi is visible through tag 30");
    assert_eq!(s.api(&format!("tag/get?access_token={keeper}&tagid=30")).await["errcode"], 0);

    assert_eq!(s.api(&format!("tag/delete?access_token={sync}&tagid=30")).await["errcode"], 0);
    let (parties, tags, _, group_tags) = rights(&s).await;
    assert_eq!((parties, tags, group_tags), (json!([4]), json!([]), json!([])));
    assert_eq!(user_get(&s, &watcher, "lisi").await, 60111);

    // A new tag 30 holding lisi: the app does not see lisi through it, the group not the tag.
    let v = s.api_post(&format!("tag/create?access_token={sync}"), json!({"tagid": 30, "tagname": "New"}).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let v = s.api_post(&format!("tag/addtagusers?access_token={sync}"), json!({"tagid": 30, "userlist": ["lisi"]}).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(user_get(&s, &watcher, "lisi").await, 60111);
    assert_eq!(s.api(&format!("tag/get?access_token={keeper}&tagid=30")).await["errcode"], 60011);
}

async fn codes(s: &Server, paths: &[String]) -> Vec<i64> {
    let mut out = Vec::new();
    for p in paths {
        out.push(s.api(p).await["errcode"].as_i64().unwrap());
    }
    out
}

async fn contact_sync_reads_details_only_from_earlier_ips(db: &Db) {
    let s = Server::start(db, &[]).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let details = |token: &str| {
        [
            format!("user/list?access_token={token}&department_id=1"),
            format!("user/simplelist?access_token={token}&department_id=1"),
            format!("department/list?access_token={token}"),
        ]
    };
    let others = [
        format!("department/simplelist?access_token={sync}"),
        format!("department/get?access_token={sync}&id=2"),
        format!("user/get?access_token={sync}&userid=zhangsan"),
    ];
    // By default the corp predates the rule: every IP reads.
    assert_eq!(codes(&s, &details(&sync)).await, [0, 0, 0]);

    // The tests' 127.0.0.1 is a newly added IP.
    let (st, v) =
        s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/contact_sync/read_ips"), Some(json!({"read_ips": ["10.0.0.0/8"]}))).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(codes(&s, &details(&sync)).await, [48009, 48009, 48009]);
    let v = s.api(&details(&sync)[2]).await;
    assert!(v["errmsg"].as_str().unwrap().contains("more info at https://open.work.weixin.qq.com/devtool/query?e=48009"), "{v}");
    assert_eq!(codes(&s, &others).await, [0, 0, 0], "ids and single records stay readable");
    let v = s.api_post(&format!("user/list_id?access_token={sync}"), json!({"limit": 10}).to_string()).await;
    assert_eq!(v["errcode"], 0);
    assert_eq!(codes(&s, &details(&app)).await, [0, 0, 0], "apps are not concerned");

    // 127.0.0.1 known from before: reads again; null: the rule no longer applies.
    let path = format!("/corps/{CORPID}/contact_sync/read_ips");
    let put = |ips: Value| s.control(reqwest::Method::PUT, &path, Some(json!({"read_ips": ips})));
    assert_eq!(put(json!(["10.0.0.0/8", "127.0.0.1"])).await.0, 200);
    assert_eq!(codes(&s, &details(&sync)).await, [0, 0, 0]);
    assert_eq!(put(json!([])).await.0, 200);
    assert_eq!(codes(&s, &details(&sync)).await, [48009, 48009, 48009]);
    assert_eq!(put(json!(null)).await.0, 200);
    assert_eq!(codes(&s, &details(&sync)).await, [0, 0, 0]);
    assert_eq!(put(json!(["not an ip"])).await.0, 400);

    // The same from a seed, shown in the corp's view.
    let seed = format!("[[corp]]\ncorpid = \"{CORPID}\"\nname = \"Test Corp\"\ncontact_sync_read_ips = [\"10.0.0.1\"]\n");
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.get(&format!("/corps/{CORPID}")).await.1["contact_sync_read_ips"], json!(["10.0.0.1"]));
    assert_eq!(codes(&s, &details(&sync)).await, [48009, 48009, 48009]);
}

/// An app that names a member in allow_users: deleting the member takes it out, so a new member
/// given the same userid later (in a department the app does not see) stays invisible.
async fn a_deleted_member_leaves_no_rights_behind(db: &Db) {
    let s = Server::start(db, &[]).await;
    let seed = format!(
        "[[corp]]\ncorpid = \"{CORPID}\"\nname = \"Test Corp\"\n\
         [[corp.department]]\nid = 4\nname = \"Temp\"\nparentid = 1\n\
         [[corp.member]]\nuserid = \"temp1\"\nname = \"T\"\ndepartment = [4]\nemail = \"t1@example.com\"\n\
         [[corp.app]]\nagentid = 1000004\nname = \"Watcher\"\nsecret = \"{WATCHER_SECRET}\"\nallow_users = [\"zhangsan\", \"Temp1\"]\n"
    );
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (sync, watcher) = (s.token(CORPID, SYNC_SECRET).await, s.token(CORPID, WATCHER_SECRET).await);
    assert_eq!(user_get(&s, &watcher, "temp1").await, 0, "named in allow_users (the range is now cached)");

    let v = s.api_post(&format!("user/batchdelete?access_token={sync}"), json!({"useridlist": ["temp1"]}).to_string()).await;
    assert_eq!(v["errcode"], 0, "{v}");
    let (_, corp) = s.get(&format!("/corps/{CORPID}")).await;
    let app = corp["apps"].as_array().unwrap().iter().find(|a| a["agentid"] == 1000004).unwrap().clone();
    assert_eq!(app["allow_users"], json!(["zhangsan"]), "{app}");

    let body = json!({"userid": "TEMP1", "name": "T again", "department": [4], "email": "t1b@example.com"});
    assert_eq!(s.api_post(&format!("user/create?access_token={sync}"), body.to_string()).await["errcode"], 0);
    assert_eq!(user_get(&s, &watcher, "temp1").await, 60111, "a new member of the same userid is outside the range");
    assert_eq!(user_get(&s, &watcher, "zhangsan").await, 0);
}

on_both_backends!(
    only_granted_credentials_write,
    a_deleted_department_leaves_no_rights_behind,
    a_deleted_tag_leaves_no_rights_behind,
    a_deleted_member_leaves_no_rights_behind,
    contact_sync_reads_details_only_from_earlier_ips,
);
