//! Asynchronous batch imports over HTTP: a CSV uploaded with media/upload?type=file, a job started
//! with batch/syncuser, replaceuser or replaceparty (and the 企业号's batch/inviteuser), getresult
//! polled to the end, the contacts read back through the API, per-row and job-level errors, the
//! batch_job_result callback, the change_contact events the rows record, and kill -9 mid-job.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const MEMBER_HEADER: &str = "姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,地址,座机,禁用,禁用项说明：(0-启用;1-禁用)";
const PARTY_HEADER: &str = "部门名称,部门ID,父部门ID,排序";

async fn csv(s: &Server, token: &str, bytes: &[u8]) -> String {
    s.media_id(token, "file", "import.csv", bytes).await
}

/// Starts a job and answers its jobid (the call must succeed).
async fn start(s: &Server, token: &str, endpoint: &str, body: Value) -> String {
    let v = s.api_post(&format!("batch/{endpoint}?access_token={token}"), body.to_string()).await;
    assert_eq!(v["errcode"], 0, "{endpoint}: {v}");
    let jobid = v["jobid"].as_str().unwrap().to_string();
    assert!(!jobid.is_empty() && jobid.len() <= 64, "{jobid}");
    jobid
}

async fn refused(s: &Server, token: &str, endpoint: &str, body: Value) -> i64 {
    let v = s.api_post(&format!("batch/{endpoint}?access_token={token}"), body.to_string()).await;
    v["errcode"].as_i64().unwrap_or_else(|| panic!("{v}"))
}

async fn result(s: &Server, token: &str, jobid: &str) -> Value {
    s.api(&format!("batch/getresult?access_token={token}&jobid={jobid}")).await
}

/// Polls getresult until the job has finished.
async fn finished(s: &Server, token: &str, jobid: &str) -> Value {
    let start = Instant::now();
    loop {
        let v = result(s, token, jobid).await;
        assert_eq!(v["errcode"], 0, "{v}");
        if v["status"] == 3 || start.elapsed() > Duration::from_secs(60) {
            assert_eq!((v["status"].clone(), v["percentage"].clone()), (json!(3), json!(100)), "{v}");
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn user(s: &Server, token: &str, userid: &str) -> Value {
    s.api(&format!("user/get?access_token={token}&userid={userid}")).await
}

async fn departments(s: &Server, token: &str) -> Vec<Value> {
    let v = s.api(&format!("department/list?access_token={token}")).await;
    v["department"].as_array().unwrap_or_else(|| panic!("{v}")).clone()
}

async fn events(s: &Server) -> Vec<Value> {
    let (st, v) = s.get(&format!("/corps/{CORPID}/events")).await;
    assert_eq!(st, 200);
    v.as_array().unwrap().clone()
}

fn item<'a>(e: &'a Value, name: &str) -> Option<&'a str> {
    e["items"].as_array()?.iter().find(|i| i[0] == name).and_then(|i| i[1].as_str())
}

async fn pause(s: &Server, paused: bool) {
    let (st, v) = s.control(reqwest::Method::PUT, "/batch", Some(json!({ "paused": paused }))).await;
    assert_eq!((st, v["paused"].clone()), (200, json!(paused)), "{v}");
}

fn row<'a>(result: &'a Value, userid: &str) -> &'a Value {
    result["result"].as_array().unwrap().iter().find(|r| r["userid"] == userid).unwrap_or_else(|| panic!("no row for {userid}: {result}"))
}

async fn syncuser_creates_updates_and_reports_each_row(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    let file = format!(
        "{MEMBER_HEADER}\n\
         赵六,zhaoliu,13800000011,zl@example.com,2;3,工程师,男,1;0,10;20,zl,深圳,020-555,0,\n\
         Li Si 2,lisi,,lisi@example.com,3,经理,女,,,,,,1,\n\
         Dup Mobile,dupmobile,13800000001,,2,,,,,,,,,\n\
         Taken,taken,13800000001,,30,,,,,,,,,\n\
         New Dept,newdept,13800000012,,9,,,,,,,,,\n\
         Far Dept,fardept,13800000013,,4294967296,,,,,,,,,\n\
         Also New,alsonew,13800000014,,9;12,,,,,,,,,\n\
         Bad Mobile,badmobile,abc,,2,,,,,,,,,\n"
    );
    let media_id = csv(&s, &token, file.as_bytes()).await;
    let jobid = start(&s, &token, "syncuser", json!({ "media_id": media_id, "to_invite": false })).await;
    let v = finished(&s, &token, &jobid).await;
    assert_eq!((v["type"].clone(), v["total"].clone()), (json!("sync_user"), json!(8)), "{v}");
    assert_eq!(v["result"][0], json!({ "userid": "zhaoliu", "errcode": 0, "errmsg": "ok" }), "{v}");
    assert!(v["result"][0].get("action").is_none(), "WeCom rows carry no action");
    assert_eq!(row(&v, "lisi")["errcode"], 0);
    assert_eq!(row(&v, "dupmobile")["errcode"], 60104, "{v}");
    assert_eq!(row(&v, "dupmobile")["errmsg"], "mobile existed:zhangsan");
    assert_eq!(row(&v, "taken")["errcode"], 60104, "{v}");
    assert_eq!(row(&v, "newdept")["errcode"], 0, "{v}");
    assert_eq!(row(&v, "fardept")["errcode"], 60123, "no department could have that id");
    assert_eq!(row(&v, "alsonew")["errcode"], 0, "{v}");
    assert_eq!(row(&v, "badmobile")["errcode"], 60103);

    // Departments the file names but the corp lacks are made under 其他(待设置部门), whose id is
    // above every id the file names; the refused row's department 30 (and the 其他 it made
    // first) went with it.
    let parties = departments(&s, &token).await;
    let brief: Vec<(i64, &str, i64)> =
        parties.iter().map(|d| (d["id"].as_i64().unwrap(), d["name"].as_str().unwrap(), d["parentid"].as_i64().unwrap())).collect();
    for d in [(31, "其他(待设置部门)", 1), (9, "9", 31), (12, "12", 31)] {
        assert!(brief.contains(&d), "{d:?} in {brief:?}");
    }
    assert_eq!(brief.len(), 6, "{brief:?}");
    assert_eq!(
        (user(&s, &token, "newdept").await["department"].clone(), user(&s, &token, "alsonew").await["department"].clone()),
        (json!([9]), json!([9, 12]))
    );

    let z = user(&s, &token, "zhaoliu").await;
    assert_eq!(z["errcode"], 0, "{z}");
    assert_eq!(
        (z["name"].clone(), z["department"].clone(), z["is_leader_in_dept"].clone(), z["order"].clone()),
        (json!("赵六"), json!([2, 3]), json!([1, 0]), json!([10, 20]))
    );
    assert_eq!(
        (z["gender"].clone(), z["telephone"].clone(), z["alias"].clone(), z["address"].clone(), z["enable"].clone()),
        (json!("1"), json!("020-555"), json!("zl"), json!("深圳"), json!(1))
    );
    // Only the columns of the file change: lisi keeps no mobile, moves to Sales, is disabled.
    let l = user(&s, &token, "lisi").await;
    assert_eq!(
        (l["name"].clone(), l["department"].clone(), l["position"].clone(), l["gender"].clone(), l["status"].clone()),
        (json!("Li Si 2"), json!([3]), json!("经理"), json!("2"), json!(2))
    );
    for u in ["dupmobile", "taken", "fardept", "badmobile"] {
        assert_eq!(user(&s, &token, u).await["errcode"], 60111, "{u} was refused");
    }
    // Members not in the file are untouched by syncuser.
    assert_eq!(user(&s, &token, "wangwu").await["department"], json!([3]));

    // Each change recorded its event, the caller as origin, as the API's writes do.
    let ev = events(&s).await;
    let created: Vec<(&str, &str)> = ev
        .iter()
        .filter_map(|e| match e["change_type"].as_str()? {
            "create_user" => Some(("user", item(e, "UserID")?)),
            "create_party" => Some(("party", item(e, "Id")?)),
            _ => None,
        })
        .collect();
    assert_eq!(
        created,
        [("user", "zhaoliu"), ("party", "31"), ("party", "9"), ("user", "newdept"), ("party", "12"), ("user", "alsonew")],
        "{ev:?}"
    );
    let unplaced = ev.iter().find(|e| e["change_type"] == "create_party").unwrap();
    assert_eq!((item(unplaced, "Name"), item(unplaced, "ParentId")), (Some("其他(待设置部门)"), Some("1")));
    assert!(ev.iter().filter(|e| e["change_type"] == "create_user").all(|e| e["origin"] == "contact_sync"), "{ev:?}");
    let updated: Vec<&Value> = ev.iter().filter(|e| e["change_type"] == "update_user").collect();
    assert_eq!((updated.len(), item(updated[0], "UserID"), item(updated[0], "Department")), (1, Some("lisi"), Some("3")));
    let done = ev.iter().find(|e| e["event"] == "batch_job_result").unwrap_or_else(|| panic!("{ev:?}"));
    assert_eq!((item(done, "JobId"), item(done, "JobType"), item(done, "ErrCode")), (Some(jobid.as_str()), Some("sync_user"), Some("0")));
    assert_eq!(done["receiver"], "contact_sync", "no callback given: the contacts-sync assistant's");

    // A later import puts its new department under the 其他 the corp has.
    let again = format!("{MEMBER_HEADER}\nThird,third,13800000015,,20,,,,,,,,,\n");
    let media_id = csv(&s, &token, again.as_bytes()).await;
    let jobid = start(&s, &token, "syncuser", json!({ "media_id": media_id })).await;
    assert_eq!(finished(&s, &token, &jobid).await["result"][0]["errcode"], 0);
    let parties = departments(&s, &token).await;
    let d20 = parties.iter().find(|d| d["id"] == 20).unwrap_or_else(|| panic!("{parties:?}"));
    assert_eq!((d20["name"].clone(), d20["parentid"].clone(), parties.len()), (json!("20"), json!(31), 7));
}

async fn replaceuser_deletes_the_rest_and_protects(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    // 3 members; a file of a new member only would delete all 3 (over 80%): refused at the call.
    let only_new = "姓名,帐号,手机号,所在部门\nNew,newbie,13800000020,1\n";
    let media_id = csv(&s, &token, only_new.as_bytes()).await;
    assert_eq!(refused(&s, &token, "replaceuser", json!({ "media_id": media_id })).await, 45026);
    assert_eq!(user(&s, &token, "newbie").await["errcode"], 60111, "nothing applied");

    // Keeping zhangsan deletes 2 of 3 (not over 80%).
    let keep = "姓名,帐号,手机号,所在部门\nZhang San,ZhangSan,13800000001,2\nNew,newbie,13800000020,1\n";
    let media_id = csv(&s, &token, keep.as_bytes()).await;
    let jobid = start(&s, &token, "replaceuser", json!({ "media_id": media_id })).await;
    let v = finished(&s, &token, &jobid).await;
    assert_eq!((v["type"].clone(), v["total"].clone()), (json!("replace_user"), json!(2)));
    assert!(v["result"].as_array().unwrap().iter().all(|r| r["errcode"] == 0), "{v}");
    for (u, code) in [("zhangsan", 0), ("newbie", 0), ("lisi", 60111), ("wangwu", 60111)] {
        assert_eq!(user(&s, &token, u).await["errcode"], code, "{u}");
    }
    let deleted: Vec<String> =
        events(&s).await.iter().filter(|e| e["change_type"] == "delete_user").map(|e| item(e, "UserID").unwrap().to_string()).collect();
    assert_eq!(deleted, ["lisi", "wangwu"]);

    // Deletion protection once more when the job runs: the call saw 1 of 2 to delete; members
    // created before the job ran make it 5 of 6.
    pause(&s, true).await;
    let keep = "姓名,帐号,手机号,所在部门\nZhang San,zhangsan,13800000001,2\nOther,other,13800000022,1\n";
    let media_id = csv(&s, &token, keep.as_bytes()).await;
    let jobid = start(&s, &token, "replaceuser", json!({ "media_id": media_id })).await;
    for i in 0..4 {
        let body = json!({ "userid": format!("late{i}"), "name": "Late", "department": [1], "mobile": format!("1380000003{i}") });
        assert_eq!(s.api_post(&format!("user/create?access_token={token}"), body.to_string()).await["errcode"], 0);
    }
    let v = result(&s, &token, &jobid).await;
    assert_eq!((v["status"].clone(), v["percentage"].clone(), v["result"].clone()), (json!(1), json!(0), json!([])), "{v}");
    pause(&s, false).await;
    let v = finished(&s, &token, &jobid).await;
    let rows = v["result"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["errcode"] == 45026), "every row was stopped: {v}");
    for (u, code) in [("other", 60111), ("newbie", 0), ("late0", 0)] {
        assert_eq!(user(&s, &token, u).await["errcode"], code, "{u}: nothing applied");
    }
    let ev = events(&s).await;
    let done: Vec<&Value> = ev.iter().filter(|e| e["event"] == "batch_job_result").collect();
    assert_eq!(item(done.last().unwrap(), "ErrCode"), Some("45026"));
}

async fn replaceparty_replaces_the_tree(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    // Sales (3) is left out while wangwu is in it; R&D is renamed and reordered; two are new,
    // listed children first.
    let file = format!("{PARTY_HEADER}\nBackend,5,4,\nPlatform,4,2,\nNew Corp,1,0,\nR&D Center,2,1,300\n");
    let media_id = csv(&s, &token, file.as_bytes()).await;
    let jobid = start(&s, &token, "replaceparty", json!({ "media_id": media_id })).await;
    let v = finished(&s, &token, &jobid).await;
    assert_eq!((v["type"].clone(), v["total"].clone()), (json!("replace_party"), json!(4)));
    let actions: Vec<(i64, i64, i64)> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["partyid"].as_i64().unwrap(), r["action"].as_i64().unwrap(), r["errcode"].as_i64().unwrap()))
        .collect();
    assert_eq!(actions, [(1, 2, 0), (2, 2 | 8, 0), (4, 1, 0), (5, 1, 0)], "{v}");
    let list = departments(&s, &token).await;
    let ids: Vec<(i64, String, i64)> = list
        .iter()
        .map(|d| (d["id"].as_i64().unwrap(), d["name"].as_str().unwrap().to_string(), d["parentid"].as_i64().unwrap()))
        .collect();
    assert!(
        ids.contains(&(1, "New Corp".into(), 0)) && ids.contains(&(2, "R&D Center".into(), 1)) && ids.contains(&(5, "Backend".into(), 4)),
        "{ids:?}"
    );
    let r_and_d = list.iter().find(|d| d["id"] == 2).unwrap();
    assert_eq!(r_and_d["order"], 300);
    assert!(ids.iter().any(|d| d.0 == 3), "Sales still holds wangwu: kept for now");

    // A member import that empties Sales deletes it at its end.
    let media_id = csv(&s, &token, "姓名,帐号,手机号,所在部门\nWang Wu,wangwu,13800000003,5\n".as_bytes()).await;
    let jobid = start(&s, &token, "syncuser", json!({ "media_id": media_id })).await;
    finished(&s, &token, &jobid).await;
    assert!(departments(&s, &token).await.iter().all(|d| d["id"] != 3), "Sales emptied and gone");
    let ev = events(&s).await;
    let kinds: Vec<(&str, Option<&str>)> =
        ev.iter().filter(|e| e["event"] == "change_contact").map(|e| (e["change_type"].as_str().unwrap(), item(e, "Id"))).collect();
    assert!(
        kinds.contains(&("create_party", Some("4")))
            && kinds.contains(&("update_party", Some("2")))
            && kinds.contains(&("delete_party", Some("3"))),
        "{kinds:?}"
    );
}

async fn call_and_file_errors(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    assert_eq!(refused(&s, &token, "syncuser", json!({})).await, 41006);
    assert_eq!(refused(&s, &token, "syncuser", json!({ "media_id": "1nope" })).await, 40007);
    let image = s.media_id(&token, "image", "a.jpg", JPEG).await;
    assert_eq!(refused(&s, &token, "syncuser", json!({ "media_id": image })).await, 40007, "not a file");
    let ok = csv(&s, &token, "姓名,帐号,手机号,所在部门\nA,a1,13800000040,1\n".as_bytes()).await;
    let bad_cb = json!({ "media_id": ok, "callback": { "url": "ftp://x", "token": TOKEN, "encodingaeskey": AES_KEY } });
    assert_eq!(refused(&s, &token, "syncuser", bad_cb).await, 40057);
    for (file, code) in [
        (&b"\r\n\r\n,,,\r\n"[..], 40092),
        (b"\xff\xfe\x00\x81binary", 40092),
        ("姓名,手机号,所在部门\nA,138,1\n".as_bytes(), 40092),
        ("姓名,帐号,手机号,所在部门\nA,dup,13800000041,1\nB,DUP,13800000042,1\n".as_bytes(), 302003),
    ] {
        let m = csv(&s, &token, file).await;
        assert_eq!(refused(&s, &token, "syncuser", json!({ "media_id": m })).await, code, "{:?}", String::from_utf8_lossy(file));
    }
    for (file, code) in [
        ("部门名称,部门ID,父部门ID\nA,2,1\nB,2,1\n", 302006),
        ("部门名称,部门ID,父部门ID\nA,2,1\nA,4,1\n", 302007),
        ("部门名称,部门ID,父部门ID\nA,2,9\n", 302004),
        ("部门名称,部门ID\nA,2\n", 40092),
    ] {
        let m = csv(&s, &token, file.as_bytes()).await;
        assert_eq!(refused(&s, &token, "replaceparty", json!({ "media_id": m })).await, code, "{file}");
    }
    assert_eq!(user(&s, &token, "a1").await["errcode"], 60111, "no job ran");
    let v = s.api(&format!("batch/getresult?access_token={token}&jobid=nope")).await;
    assert_eq!(v["errcode"], 40088);
    let v = s.api(&format!("batch/getresult?access_token={token}")).await;
    assert_eq!(v["errcode"], 40058);

    // Who may import: the contacts-sync secret and a 管理组 writing the root; apps not.
    let app = s.token(CORPID, APP_SECRET).await;
    assert_eq!(refused(&s, &app, "syncuser", json!({ "media_id": ok })).await, 48002);
    let reader = s.token(CORPID, GROUP2_SECRET).await;
    assert_eq!(refused(&s, &reader, "syncuser", json!({ "media_id": ok })).await, 60011);
    assert_eq!(refused(&s, &token, "inviteuser", json!({ "touser": "lisi" })).await, 48005, "WeCom has batch/invite instead");
    let seed = "[[corp]]\ncorpid = \"ww00000000000000e1\"\nname = \"Edit\"\n\n[[corp.app]]\nagentid = 1000002\nname = \"Editor\"\nsecret = \"edit-app-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxx\"\nallow_parties = [1]\ncontact_edit = true\n";
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let editor = s.token("ww00000000000000e1", "edit-app-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxx").await;
    let m = csv(&s, &editor, "姓名,帐号,手机号,所在部门\nA,a1,13800000040,1\n".as_bytes()).await;
    assert_eq!(refused(&s, &editor, "syncuser", json!({ "media_id": m })).await, 48008);
}

async fn one_job_at_a_time_and_the_last_five(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    let file = |i: usize| format!("姓名,帐号,手机号,所在部门\nM{i},m{i},1390000000{i},1\n");
    pause(&s, true).await;
    let first = start(&s, &token, "syncuser", json!({ "media_id": csv(&s, &token, file(0).as_bytes()).await })).await;
    let m = csv(&s, &token, file(1).as_bytes()).await;
    assert_eq!(refused(&s, &token, "syncuser", json!({ "media_id": m })).await, 302008);
    let (_, v) = s.get("/batch").await;
    assert_eq!(v["pending"][0]["jobid"], first.as_str(), "{v}");
    pause(&s, false).await;
    finished(&s, &token, &first).await;
    let mut later = vec![];
    for i in 1..=5 {
        let jobid = start(&s, &token, "syncuser", json!({ "media_id": csv(&s, &token, file(i).as_bytes()).await })).await;
        finished(&s, &token, &jobid).await;
        later.push(jobid);
    }
    assert_eq!(result(&s, &token, &first).await["errcode"], 40089, "older than the last 5");
    for jobid in &later {
        assert_eq!(result(&s, &token, jobid).await["result"][0]["errcode"], 0);
    }
}

async fn encodings_and_quoted_fields(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    let text = "姓名,帐号,手机号,所在部门,职位\n张三丰,zhangsanfeng,13800000051,1,\"掌门, 太极\"\n\"王 \"\"五\"\"\",wangwu5,13800000052,\"2;3\",\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let bom = [
        b"\xef\xbb\xbf".as_slice(),
        text.replace("zhangsanfeng", "bom1").replace("wangwu5", "bom2").replace("1380000005", "1380000006").as_bytes(),
    ]
    .concat();
    for (bytes, first, second) in [(gbk.to_vec(), "zhangsanfeng", "wangwu5"), (bom, "bom1", "bom2")] {
        let jobid = start(&s, &token, "syncuser", json!({ "media_id": csv(&s, &token, &bytes).await })).await;
        let v = finished(&s, &token, &jobid).await;
        assert!(v["result"].as_array().unwrap().iter().all(|r| r["errcode"] == 0), "{v}");
        let a = user(&s, &token, first).await;
        assert_eq!((a["name"].clone(), a["position"].clone()), (json!("张三丰"), json!("掌门, 太极")), "{a}");
        let b = user(&s, &token, second).await;
        assert_eq!((b["name"].clone(), b["department"].clone()), (json!("王 \"五\""), json!([2, 3])), "{b}");
    }
}

async fn batch_job_result_reaches_the_job_callback_or_the_sync_receiver(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    let (sync, app, job) = (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    configure(&s, "contact_sync", &sync).await;
    configure(&s, "app:1000002", &app).await;

    // The job's own receiver (not verified, not saved as a callback).
    let m = csv(&s, &token, "姓名,帐号,手机号,所在部门\nCB,cb1,13800000061,1\n".as_bytes()).await;
    let body = json!({ "media_id": m, "callback": { "url": job.url, "token": TOKEN, "encodingaeskey": AES_KEY } });
    let jobid = start(&s, &token, "syncuser", body).await;
    finished(&s, &token, &jobid).await;
    let got = job.wait_for(1, 15).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0],
        format!(
            "<xml><ToUserName><![CDATA[{CORPID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>{}</CreateTime>\
             <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[batch_job_result]]></Event><BatchJob><JobId><![CDATA[{jobid}]]></JobId>\
             <JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode><ErrMsg><![CDATA[ok]]></ErrMsg></BatchJob></xml>",
            element(&got[0], "CreateTime").unwrap()
        )
    );
    // The app sees the member the job created; the assistant, whose call it was, does not.
    let got = app.wait_for(1, 10).await;
    assert!(got[0].contains("<ChangeType><![CDATA[create_user]]></ChangeType><UserID><![CDATA[cb1]]></UserID>"), "{got:?}");
    let (_, list) = s.get(&format!("/corps/{CORPID}/callbacks")).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "the job's receiver is no saved callback: {list}");
    let log = settled(&s, "job:1", 1, 10).await;
    assert_eq!((log[0]["state"].clone(), log[0]["attempts"][0]["status"].clone()), (json!("delivered"), json!(200)), "{log:?}");

    // Without a callback (or with wechatpy's empty one) the result goes to the assistant.
    let m = csv(&s, &token, "姓名,帐号,手机号,所在部门\nCB,cb2,13800000062,1\n".as_bytes()).await;
    let jobid = start(&s, &token, "syncuser", json!({ "media_id": m, "callback": { "url": "", "token": "", "encodingaeskey": "" } })).await;
    finished(&s, &token, &jobid).await;
    let got = sync.wait_for(1, 15).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains(&format!("<Event><![CDATA[batch_job_result]]></Event><BatchJob><JobId><![CDATA[{jobid}]]></JobId>")),
        "{}",
        got[0]
    );
    assert!(job.pushes().len() == 1, "the first job's receiver got only its own result");
}

async fn legacy_groups_import_and_invite(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, GROUP_SECRET).await;
    let m = csv(&s, &token, "姓名,帐号,微信号,所在部门\nWx,wxuser,wx_member1,1\n".as_bytes()).await;
    let jobid = start(&s, &token, "syncuser", json!({ "media_id": m, "callback": { "url": "", "token": "", "encodingaeskey": "" } })).await;
    let v = finished(&s, &token, &jobid).await;
    assert_eq!(v["remaintime"], 0, "{v}");
    assert_eq!(v["result"][0], json!({ "userid": "wxuser", "errcode": 0, "errmsg": "ok", "action": 2 }), "{v}");
    assert_eq!(user(&s, &token, "wxuser").await["weixinid"], "wx_member1");

    let body = json!({ "touser": "wxuser|zhangsan|ghost", "toparty": "3", "invite_tips": "join us" });
    let jobid = start(&s, &token, "inviteuser", body).await;
    let v = finished(&s, &token, &jobid).await;
    assert_eq!(v["type"], "invite_user");
    let rows: Vec<(String, i64, i64)> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["userid"].as_str().unwrap().to_string(), r["invitetype"].as_i64().unwrap(), r["errcode"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [("wxuser".into(), 1, 0), ("zhangsan".into(), 0, 60119), ("ghost".into(), 0, 60111), ("wangwu".into(), 0, 60119)],
        "{v}"
    );
}

/// kill -9 in the middle of a large job: the restarted server goes on from the last committed
/// step; every row is applied once.
async fn a_restart_resumes_the_job(db: &Db) {
    let s = Server::start(db, &["--batch-rows", "40"]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    let n = 2000;
    let mut file = String::from("姓名,帐号,手机号,所在部门\n");
    for i in 0..n {
        file.push_str(&format!("Member {i},bulk{i:05},1{i:010},2\n"));
    }
    let jobid = start(&s, &token, "syncuser", json!({ "media_id": csv(&s, &token, file.as_bytes()).await })).await;
    let start_at = Instant::now();
    loop {
        let v = result(&s, &token, &jobid).await;
        let p = v["percentage"].as_i64().unwrap();
        if p > 0 || start_at.elapsed() > Duration::from_secs(60) {
            assert!(p > 0 && p < 100, "caught mid-job: {v}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.kill().await;
    let s = Server::start(db, &["--batch-rows", "40"]).await;
    let token = s.token(CORPID, SYNC_SECRET).await;
    let v = finished(&s, &token, &jobid).await;
    let rows = v["result"].as_array().unwrap();
    assert_eq!(rows.len(), n);
    assert!(rows.iter().all(|r| r["errcode"] == 0), "{:?}", rows.iter().find(|r| r["errcode"] != 0));
    let listed = s.api(&format!("user/simplelist?access_token={}&department_id=2", s.token(CORPID, APP_SECRET).await)).await;
    assert_eq!(listed["userlist"].as_array().unwrap().len(), n + 1, "zhangsan and every row once");
    let created = events(&s).await.iter().filter(|e| e["change_type"] == "create_user").count();
    assert_eq!(created, n, "one event per member: none repeated, none lost");
}

on_both_backends!(
    syncuser_creates_updates_and_reports_each_row,
    replaceuser_deletes_the_rest_and_protects,
    replaceparty_replaces_the_tree,
    call_and_file_errors,
    one_job_at_a_time_and_the_last_five,
    encodings_and_quoted_fields,
    batch_job_result_reaches_the_job_callback_or_the_sync_receiver,
    legacy_groups_import_and_invite,
    a_restart_resumes_the_job,
);

/// Two instances on one PostgreSQL: the job's lease lets one work on it at a time; when that one
/// stops between steps, the other takes the job over once the lease runs out, and every row is
/// applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_hand_a_job_over() {
    if !postgres_available().await {
        return;
    }
    let db = Db::new(Backend::Postgres).await;
    let a = Server::start(&db, &["--batch-rows", "5"]).await;
    let b = Server::start(&db, &["--batch-rows", "5"]).await;
    let token = a.token(CORPID, SYNC_SECRET).await;
    let n = 400;
    let mut file = String::from("姓名,帐号,手机号,所在部门\n");
    for i in 0..n {
        file.push_str(&format!("Member {i},pair{i:04},1{:010},3\n", 5_000_000 + i));
    }
    // a takes the call but not the work: b's sweep finds the job.
    pause(&a, true).await;
    let jobid = start(&a, &token, "syncuser", json!({ "media_id": csv(&a, &token, file.as_bytes()).await })).await;
    let begun = Instant::now();
    loop {
        let p = result(&a, &token, &jobid).await["percentage"].as_i64().unwrap();
        if p > 0 || begun.elapsed() > Duration::from_secs(30) {
            assert!(p > 0 && p < 100, "b is working on it: {p}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pause(&b, true).await;
    pause(&a, false).await;
    let v = finished(&a, &token, &jobid).await;
    assert_eq!(v["result"].as_array().unwrap().len(), n);
    assert!(v["result"].as_array().unwrap().iter().all(|r| r["errcode"] == 0), "{v}");
    let created = events(&a).await.iter().filter(|e| e["change_type"] == "create_user").count();
    assert_eq!(created, n, "each row applied once, by one instance or the other");
    drop((a, b));
    db.drop_db().await;
}
