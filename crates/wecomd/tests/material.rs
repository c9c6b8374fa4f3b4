//! The 企业号's permanent material over HTTP: every material/* endpoint in the legacy dialect, the
//! refusal of WeCom tokens, the 管理组's rights on the app, limits and errors with nothing left
//! behind, a large file streamed in and read back with ranges, and message/send naming material.

mod common;

use common::*;
use serde_json::{json, Value};
use sqlx::Connection;

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

/// 1000002 is managed by group 1 (GROUP_SECRET); 1000003 is used by group 2 (GROUP2_SECRET).
const APP: i64 = 1000002;
const APP2: i64 = 1000003;

async fn add_material(s: &Server, token: &str, agentid: i64, media_type: &str, filename: &str, data: &[u8]) -> Value {
    let (ct, body) = multipart("media", filename, data);
    post_raw(s, &format!("/cgi-bin/material/add_material?access_token={token}&type={media_type}&agentid={agentid}"), &ct, body).await
}

async fn material_id(s: &Server, token: &str, agentid: i64, media_type: &str, filename: &str, data: &[u8]) -> String {
    let v = add_material(s, token, agentid, media_type, filename, data).await;
    v["media_id"].as_str().unwrap_or_else(|| panic!("add_material refused: {v}")).to_string()
}

fn article(title: &str, thumb: &str) -> Value {
    json!({ "title": title, "thumb_media_id": thumb, "author": "zs", "content_source_url": "http://example.com/a",
            "content": "<p>body</p>", "digest": "d", "show_cover_pic": 1 })
}

async fn add_mpnews(s: &Server, token: &str, agentid: i64, articles: Vec<Value>) -> Value {
    let body = json!({ "agentid": agentid, "mpnews": { "articles": articles } });
    s.api_post(&format!("material/add_mpnews?access_token={token}"), body.to_string()).await
}

async fn get(s: &Server, token: &str, agentid: i64, media_id: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = s.http().get(s.url(&format!("/cgi-bin/material/get?access_token={token}&media_id={media_id}&agentid={agentid}")));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.expect("request")
}

async fn get_json(s: &Server, token: &str, agentid: i64, media_id: &str) -> Value {
    let r = get(s, token, agentid, media_id, None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{:?}", r.headers());
    r.json().await.expect("json")
}

async fn count(s: &Server, token: &str, agentid: i64) -> Value {
    s.api(&format!("material/get_count?access_token={token}&agentid={agentid}")).await
}

async fn batchget(s: &Server, token: &str, body: Value) -> Value {
    s.api_post(&format!("material/batchget?access_token={token}"), body.to_string()).await
}

async fn inbox(s: &Server, userid: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/corps/{CORPID}/members/{userid}/inbox")).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Runs `statements` in one transaction straight on the database (to fill an app's library).
async fn execute_all(db: &Db, statements: impl Iterator<Item = String>) {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&db.url()).await.expect("database");
    let mut tx = c.begin().await.expect("begin");
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    drop(c);
}

async fn every_endpoint_in_the_legacy_dialect(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, GROUP_SECRET).await;

    let v = add_material(&s, &t, APP, "image", "cover.jpg", JPEG).await;
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["errcode", "errmsg", "media_id"], "{v}");
    assert_eq!((code(&v), v["errmsg"].as_str()), (0, Some("ok")));
    let image = v["media_id"].as_str().unwrap().to_string();
    assert!(image.starts_with('2') && image.len() == 44, "permanent ids start with 2: {image}");
    let file = material_id(&s, &t, APP, "file", "季度报告.pdf", b"%PDF-1.4 a report").await;
    let voice = material_id(&s, &t, APP, "voice", "v.amr", &amr(1)).await;
    let video = material_id(&s, &t, APP, "video", "v.mp4", MP4).await;

    let v = add_mpnews(&s, &t, APP, vec![article("One", &image), article("Two", &image)]).await;
    assert_eq!((code(&v), v["errmsg"].as_str()), (0, Some("ok")), "{v}");
    let news = v["media_id"].as_str().unwrap().to_string();
    assert!(news.starts_with('2'), "{news}");

    // material/get: a file as media/get sends it; an mpnews as JSON without errcode/errmsg.
    assert_jpeg_download(get(&s, &t, APP, &image, None).await, &image).await;
    let r = get(&s, &t, APP, &file, None).await;
    assert_eq!(r.headers()["content-disposition"], "attachment; filename*=utf-8''%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf");
    assert_eq!(get(&s, &t, APP, &voice, None).await.headers()["content-type"], "voice/amr");
    assert_eq!(code(&s.api(&format!("media/get?access_token={t}&media_id={image}")).await), 40007, "material is no temporary media");
    let expected = |title: &str| {
        json!({ "title": title, "thumb_media_id": image, "author": "zs", "content_source_url": "http://example.com/a",
                "content": "<p>body</p>", "digest": "d", "show_cover_pic": 1 })
    };
    let v = get_json(&s, &t, APP, &news).await;
    assert_eq!(v, json!({ "type": "mpnews", "mpnews": { "articles": [expected("One"), expected("Two")] } }));

    let v = count(&s, &t, APP).await;
    assert_eq!(
        v,
        json!({ "errcode": 0, "errmsg": "ok", "total_count": 5, "image_count": 1, "voice_count": 1, "video_count": 1,
                "file_count": 1, "mpnews_count": 1 })
    );
    let created = s.get("/clock").await.1["now"].as_i64().unwrap();

    let v = batchget(&s, &t, json!({ "type": "file", "agentid": APP, "offset": 0, "count": 10 })).await;
    assert_eq!(
        v,
        json!({ "errcode": 0, "errmsg": "ok", "type": "file", "total_count": 1, "item_count": 1,
                "itemlist": [{ "media_id": file, "filename": "季度报告.pdf", "update_time": v["itemlist"][0]["update_time"] }] })
    );
    let update_time: i64 = v["itemlist"][0]["update_time"].as_str().expect("update_time is a digit string").parse().unwrap();
    assert!((created - update_time).abs() <= 5, "{update_time} vs {created}");
    let v = batchget(&s, &t, json!({ "type": "mpnews", "agentid": APP.to_string(), "count": "20" })).await;
    assert_eq!((v["total_count"].as_i64(), v["item_count"].as_i64()), (Some(1), Some(1)), "{v}");
    assert_eq!(v["itemlist"][0]["media_id"], news.as_str());
    assert_eq!(v["itemlist"][0]["articles"], json!([expected("One"), expected("Two")]));

    // update_mpnews replaces the whole list and moves update_time.
    s.advance(100).await;
    let t = s.token(CORPID, GROUP_SECRET).await;
    let body = json!({ "agentid": APP, "media_id": news, "mpnews": { "articles": [article("Only", &image)] } });
    let v = s.api_post(&format!("material/update_mpnews?access_token={t}"), body.to_string()).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    assert_eq!(get_json(&s, &t, APP, &news).await["mpnews"]["articles"], json!([expected("Only")]));
    let v = batchget(&s, &t, json!({ "type": "mpnews", "agentid": APP, "count": 1 })).await;
    let moved: i64 = v["itemlist"][0]["update_time"].as_str().unwrap().parse().unwrap();
    assert!(moved >= update_time + 100, "{moved}");

    // Permanent: still there long after temporary media's 3 days.
    s.advance(30 * 86_400).await;
    let t = s.token(CORPID, GROUP_SECRET).await;
    assert_eq!(&get(&s, &t, APP, &video, None).await.bytes().await.unwrap()[..], MP4);

    // del answers "deleted"; the material is gone everywhere.
    let v = s.api(&format!("material/del?access_token={t}&agentid={APP}&media_id={voice}")).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "deleted" }));
    let v = get_json(&s, &t, APP, &voice).await;
    assert_eq!(v, json!({ "errcode": 40007, "errmsg": "invalid media_id" }), "legacy errmsg is bare");
    assert_eq!(code(&s.api(&format!("material/del?access_token={t}&agentid={APP}&media_id={news}")).await), 0);
    let v = count(&s, &t, APP).await;
    assert_eq!((v["total_count"].as_i64(), v["voice_count"].as_i64(), v["mpnews_count"].as_i64()), (Some(3), Some(0), Some(0)));
    assert_eq!(rows(db, "material_mpnews").await, 0);
}

async fn wecom_tokens_are_refused(db: &Db) {
    let s = Server::start(db, &[]).await;
    for secret in [APP_SECRET, SYNC_SECRET] {
        let t = s.token(CORPID, secret).await;
        for path in ["material/get", "material/del", "material/get_count"] {
            let v = s.api(&format!("{path}?access_token={t}&agentid={APP}&media_id=2x")).await;
            assert_eq!(code(&v), 48005, "{path}: {v}");
            assert!(v["errmsg"].as_str().unwrap().starts_with("api deprecated, hint: ["), "{v}");
        }
        for path in ["material/add_mpnews", "material/update_mpnews", "material/batchget"] {
            let v = s.api_post(&format!("{path}?access_token={t}"), json!({ "agentid": APP }).to_string()).await;
            assert_eq!(code(&v), 48005, "{path}: {v}");
        }
        assert_eq!(code(&add_material(&s, &t, APP, "image", "a.jpg", JPEG).await), 48005);
    }
    assert_eq!(rows(db, "media").await, 0, "a refused upload keeps nothing");
    // Paths the platform never served are unknown paths: HTTP 404, empty body.
    let t = s.token(CORPID, GROUP_SECRET).await;
    for path in ["material/update_news", "material/add_news"] {
        let r = s.http().post(s.url(&format!("/cgi-bin/{path}?access_token={t}"))).body("{}").send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.bytes().await.unwrap().is_empty());
    }
}

async fn rights_on_the_app(db: &Db) {
    let s = Server::start(db, &[]).await;
    let g1 = s.token(CORPID, GROUP_SECRET).await;
    let g2 = s.token(CORPID, GROUP2_SECRET).await;

    // agentid: absent 41011 (wechatpy's get_count and batchget send agent_id), not an integer or
    // unknown 40056, an app the group has no rights on 60011.
    let v = s.api(&format!("material/get_count?access_token={g1}&agent_id={APP}")).await;
    assert_eq!(v, json!({ "errcode": 41011, "errmsg": "agentid missing" }));
    let v = batchget(&s, &g1, json!({ "type": "image", "agent_id": APP, "count": 20 })).await;
    assert_eq!(code(&v), 41011);
    assert_eq!(code(&add_mpnews(&s, &g1, 0, vec![]).await), 40056);
    let no_agentid = json!({ "mpnews": { "articles": [article("T", "2x")] } });
    assert_eq!(code(&s.api_post(&format!("material/add_mpnews?access_token={g1}"), no_agentid.to_string()).await), 41011);
    assert_eq!(code(&count(&s, &g1, 999).await), 40056);
    assert_eq!(code(&s.api(&format!("material/get_count?access_token={g1}&agentid=abc")).await), 40056);
    let (ct, body) = multipart("media", "a.jpg", JPEG);
    assert_eq!(code(&post_raw(&s, &format!("/cgi-bin/material/add_material?access_token={g1}&type=image"), &ct, body).await), 41011);
    let v = count(&s, &g1, APP2).await;
    assert_eq!(v, json!({ "errcode": 60011, "errmsg": "no privilege to access/modify contact/party/agent" }));
    assert_eq!(code(&add_material(&s, &g1, APP2, "image", "a.jpg", JPEG).await), 60011);
    assert_eq!(code(&add_material(&s, &g2, APP, "image", "a.jpg", JPEG).await), 60011);

    // Use rights suffice (group 2 uses 1000003); each app keeps its own materials.
    let own = material_id(&s, &g2, APP2, "image", "a.jpg", JPEG).await;
    let other = material_id(&s, &g1, APP, "image", "b.jpg", JPEG).await;
    assert_eq!(count(&s, &g2, APP2).await["image_count"], 1);
    assert_eq!(count(&s, &g1, APP).await["image_count"], 1);
    let v = get_json(&s, &g2, APP2, &other).await;
    assert_eq!(v, json!({ "errcode": 45029, "errmsg": "media_id not visible to the agent" }), "another app's material");
    assert_eq!(code(&get_json(&s, &g1, APP, &own).await), 45029);
    assert_eq!(code(&s.api(&format!("material/del?access_token={g1}&agentid={APP}&media_id={own}")).await), 45029);
    assert_eq!(code(&add_mpnews(&s, &g1, APP, vec![article("T", &own)]).await), 45029, "a thumb of another app");
    assert_eq!(count(&s, &g2, APP2).await["image_count"], 1, "not deleted");

    // Another 管理组 with rights on the same app shares its materials.
    let (st, v) =
        s.post(&format!("/corps/{CORPID}/groups"), json!({ "name": "Also 1000002", "apps": [{ "agentid": APP, "right": "use" }] })).await;
    assert_eq!(st, 201, "{v}");
    let g3 = s.token(CORPID, v["secret"].as_str().unwrap()).await;
    assert_eq!(&get(&s, &g3, APP, &other, None).await.bytes().await.unwrap()[..], JPEG);
}

async fn bad_uploads_leave_nothing(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, GROUP_SECRET).await;
    let up = |ty: &'static str, data: Vec<u8>| {
        let (s, t) = (&s, t.clone());
        async move { code(&add_material(s, &t, APP, ty, "x.bin", &data).await) }
    };
    // The same rules as media/upload.
    assert_eq!(up("thumb", JPEG.to_vec()).await, 40005);
    assert_eq!(up("mpnews", JPEG.to_vec()).await, 40005, "mpnews are added as JSON");
    assert_eq!(up("image", b"GIF89a not accepted".to_vec()).await, 40004);
    assert_eq!(up("voice", b"ID3\x03 an mp3".to_vec()).await, 301017);
    assert_eq!(up("voice", amr(61)).await, 45007);
    assert_eq!(up("file", Vec::new()).await, 44001);
    assert_eq!(up("file", b"four".to_vec()).await, 40006);
    assert_eq!(up("file", vec![b'x'; 20 * 1024 * 1024 + 1]).await, 45001);
    let mut big = JPEG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    assert_eq!(up("image", big).await, 40009);
    let path = format!("/cgi-bin/material/add_material?access_token={t}&type=file&agentid={APP}");
    let (ct, body) = multipart("file", "a.txt", b"hello world");
    assert_eq!(code(&post_raw(&s, &path, &ct, body).await), 44001, "no part called media");
    let (ct, mut body) = multipart("media", "a.txt", &vec![b'y'; 600 * 1024]);
    body.truncate(body.len() - 30);
    assert_eq!(code(&post_raw(&s, &path, &ct, body).await), 44001, "cut before the closing boundary");
    assert_eq!(up("file", b"kept file".to_vec()).await, 0);

    assert_eq!(rows_when(db, &["media", "media_chunks"], &[1, 1]).await, [1, 1], "only the accepted file remains");
    assert_eq!(count(&s, &t, APP).await["total_count"], 1);
}

async fn bad_requests(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, GROUP_SECRET).await;
    let image = material_id(&s, &t, APP, "image", "cover.jpg", JPEG).await;
    let file = material_id(&s, &t, APP, "file", "a.txt", b"some text").await;
    let temporary = s.media_id(&t, "image", "t.jpg", JPEG).await;
    assert!(temporary.starts_with('1'), "{temporary}");

    // Article lists: nothing is written when any article is refused.
    let add = |articles: Vec<Value>| {
        let (s, t) = (&s, t.clone());
        async move { code(&add_mpnews(s, &t, APP, articles).await) }
    };
    let without = |field: &str| {
        let mut a = article("T", &image);
        a.as_object_mut().unwrap().remove(field);
        vec![article("ok", &image), a]
    };
    assert_eq!(add(vec![]).await, 45008);
    assert_eq!(add(vec![article("T", &image); 11]).await, 45008);
    assert_eq!(add(without("title")).await, 41016);
    assert_eq!(add(without("thumb_media_id")).await, 41006);
    assert_eq!(add(without("content")).await, 44004);
    let mut long = article("T", &image);
    long["author"] = json!("a".repeat(65));
    assert_eq!(add(vec![long]).await, 45032);
    assert_eq!(add(vec![article("ok", &image), article("T", "2unknown")]).await, 40007);
    assert_eq!(add(vec![article("T", &temporary)]).await, 40007, "a temporary image is no permanent thumb");
    assert_eq!(add(vec![article("T", &file)]).await, 40007, "a thumb is an image");
    let v = s.api_post(&format!("material/add_mpnews?access_token={t}"), "{not json").await;
    assert_eq!(code(&v), 47001);
    assert_eq!(rows(db, "material_mpnews").await, 0, "no refused mpnews was written");
    assert_eq!(add(vec![article("T", &image); 10]).await, 0, "ten articles");

    // media_id: absent 41006, unknown or temporary 40007; update_mpnews takes mpnews only.
    assert_eq!(code(&s.api(&format!("material/get?access_token={t}&agentid={APP}")).await), 41006);
    assert_eq!(code(&get_json(&s, &t, APP, "2nope").await), 40007);
    assert_eq!(code(&get_json(&s, &t, APP, &temporary).await), 40007);
    assert_eq!(code(&s.api(&format!("material/del?access_token={t}&agentid={APP}&media_id=2nope")).await), 40007);
    let update = |media_id: &str, articles: Vec<Value>| {
        let (s, t) = (&s, t.clone());
        let body = json!({ "agentid": APP, "media_id": media_id, "mpnews": { "articles": articles } });
        async move { code(&s.api_post(&format!("material/update_mpnews?access_token={t}"), body.to_string()).await) }
    };
    assert_eq!(update(&image, vec![article("T", &image)]).await, 40007);
    assert_eq!(update("2nope", vec![article("T", &image)]).await, 40007);
    let news = add_mpnews(&s, &t, APP, vec![article("Kept", &image)]).await["media_id"].as_str().unwrap().to_string();
    assert_eq!(update(&news, vec![]).await, 45008);
    assert_eq!(update(&news, without("title")).await, 41016);
    assert_eq!(update(&news, vec![article("T", &file)]).await, 40007);
    assert_eq!(get_json(&s, &t, APP, &news).await["mpnews"]["articles"][0]["title"], "Kept", "refused updates change nothing");
    let v = s.api_post(&format!("material/update_mpnews?access_token={t}"), json!({ "agentid": APP }).to_string()).await;
    assert_eq!(code(&v), 41006);

    // batchget: type 40005, count 1–50 and offset ≥ 0 else 40035; paging.
    assert_eq!(code(&batchget(&s, &t, json!({ "type": "news", "agentid": APP, "count": 10 })).await), 40005);
    assert_eq!(code(&batchget(&s, &t, json!({ "type": "image", "agentid": APP, "count": 51 })).await), 40035);
    assert_eq!(code(&batchget(&s, &t, json!({ "type": "image", "agentid": APP, "count": 0 })).await), 40035);
    assert_eq!(code(&batchget(&s, &t, json!({ "type": "image", "agentid": APP, "offset": -1, "count": 1 })).await), 40035);
    let second = material_id(&s, &t, APP, "image", "second.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").await;
    let mut seen = Vec::new();
    for offset in 0..3 {
        let v = batchget(&s, &t, json!({ "type": "image", "agentid": APP, "offset": offset, "count": 1 })).await;
        assert_eq!(v["total_count"], 2, "{v}");
        seen.extend(v["itemlist"].as_array().unwrap().iter().map(|i| i["media_id"].as_str().unwrap().to_string()));
    }
    seen.sort();
    let mut both = vec![image.clone(), second];
    both.sort();
    assert_eq!(seen, both, "each image once over the pages");

    // An image that an mpnews uses as thumb may be deleted; the mpnews keeps its thumb_media_id.
    assert_eq!(code(&s.api(&format!("material/del?access_token={t}&agentid={APP}&media_id={image}")).await), 0);
    assert_eq!(get_json(&s, &t, APP, &news).await["mpnews"]["articles"][0]["thumb_media_id"], image.as_str());
    let send = json!({ "touser": "zhangsan", "agentid": APP, "msgtype": "mpnews", "mpnews": { "media_id": news } });
    assert_eq!(code(&s.api_post(&format!("message/send?access_token={t}"), send.to_string()).await), 0);
}

async fn libraries_are_limited(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, GROUP_SECRET).await;
    // 1000 files and 5000 mpnews per app: fill all but one straight in the database.
    execute_all(
        db,
        (0..999).map(|i| {
            format!(
                "INSERT INTO media (media_id, corpid, agentid, kind, media_type, format, filename, content_type, size, created_at, complete) \
                 VALUES ('2filler{i}', '{CORPID}', {APP}, 'material', 'file', 'any', 'f', 'text/plain', 5, 1, 1)"
            )
        }),
    )
    .await;
    execute_all(
        db,
        (0..4999).map(|i| {
            format!(
                "INSERT INTO material_mpnews (media_id, corpid, agentid, articles, created_at, update_time) \
                 VALUES ('2news{i}', '{CORPID}', {APP}, '[]', 1, 1)"
            )
        }),
    )
    .await;
    assert_eq!(count(&s, &t, APP).await["file_count"], 999);
    assert_eq!(code(&add_material(&s, &t, APP, "file", "last.txt", b"the 1000th").await), 0);
    let v = add_material(&s, &t, APP, "file", "over.txt", b"the 1001st").await;
    assert_eq!(v, json!({ "errcode": 45028, "errmsg": "material count out of limit" }));
    assert_eq!(code(&add_material(&s, &t, APP, "voice", "v.amr", &amr(1)).await), 0, "each type has its own limit");
    let g2 = s.token(CORPID, GROUP2_SECRET).await;
    assert_eq!(code(&add_material(&s, &g2, APP2, "file", "x.txt", b"another app").await), 0, "each app has its own library");
    let thumb = material_id(&s, &t, APP, "image", "cover.jpg", JPEG).await;
    assert_eq!(code(&add_mpnews(&s, &t, APP, vec![article("5000th", &thumb)]).await), 0);
    assert_eq!(code(&add_mpnews(&s, &t, APP, vec![article("5001st", &thumb)]).await), 45028);
    let v = count(&s, &t, APP).await;
    assert_eq!((v["file_count"].as_i64(), v["mpnews_count"].as_i64()), (Some(1000), Some(5000)));
    let files = format!("media WHERE media_type = 'file' AND agentid = {APP}");
    assert_eq!(rows_when(db, &[&files], &[1000]).await, [1000], "the refused 1001st file was removed");
}

async fn large_files_stream_and_come_back_exact(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, GROUP_SECRET).await;
    let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let id = material_id(&s, &t, APP, "file", "big.bin", &data).await;
    assert_eq!(rows(db, "media_chunks").await, 80, "20 MiB in 256 KiB chunks");
    let r = get(&s, &t, APP, &id, None).await;
    assert_eq!(r.headers()["content-length"], data.len().to_string().as_str());
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"big.bin\"");
    assert!(r.bytes().await.unwrap()[..] == data[..], "the same bytes back");
    let (a, b) = (256 * 1024 - 10, 256 * 1024 + 9);
    let r = get(&s, &t, APP, &id, Some(&format!("bytes={a}-{b}"))).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes {a}-{b}/{}", data.len()).as_str());
    assert_eq!(&r.bytes().await.unwrap()[..], &data[a..=b]);
    let r = get(&s, &t, APP, &id, Some("bytes=-10")).await;
    assert_eq!(&r.bytes().await.unwrap()[..], &data[data.len() - 10..]);
    assert_eq!(get(&s, &t, APP, &id, Some(&format!("bytes={}-", data.len()))).await.status(), 416);
}

async fn messages_send_material(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, GROUP_SECRET).await;
    let image = material_id(&s, &t, APP, "image", "cover.jpg", JPEG).await;
    let file = material_id(&s, &t, APP, "file", "report.txt", b"the report").await;
    let news = add_mpnews(&s, &t, APP, vec![article("Hello", &image)]).await["media_id"].as_str().unwrap().to_string();
    let send = |token: &str, body: Value| {
        let (s, path) = (&s, format!("message/send?access_token={token}"));
        async move { s.api_post(&path, body.to_string()).await }
    };

    // A permanent mpnews by media_id: the member receives its stored articles.
    let v = send(&t, json!({ "touser": "zhangsan", "agentid": APP, "msgtype": "mpnews", "mpnews": { "media_id": news } })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["msgtype"], "mpnews");
    assert_eq!(got[0]["content"], json!({ "articles": get_json(&s, &t, APP, &news).await["mpnews"]["articles"] }));
    assert_eq!(got[0]["content"]["articles"][0]["title"], "Hello");

    // Image and file messages may name the sending app's permanent material.
    for (msgtype, id) in [("image", &image), ("file", &file)] {
        let v = send(&t, json!({ "touser": "zhangsan", "agentid": APP, "msgtype": msgtype, msgtype: { "media_id": id } })).await;
        assert_eq!(code(&v), 0, "{msgtype}: {v}");
    }
    let got = inbox(&s, "zhangsan").await;
    assert_eq!(got[2]["content"], json!({ "media_id": file }));
    // Inline mpnews articles may take a permanent thumb too.
    let inline = json!({ "touser": "zhangsan", "agentid": APP, "msgtype": "mpnews",
                         "mpnews": { "articles": [{ "title": "T", "thumb_media_id": image, "content": "c" }] } });
    assert_eq!(code(&send(&t, inline).await), 0);

    // Unknown 40007, an image where an mpnews is named 40007, another app's material 45029.
    let v = send(&t, json!({ "touser": "zhangsan", "agentid": APP, "msgtype": "mpnews", "mpnews": { "media_id": "2nope" } })).await;
    assert_eq!(code(&v), 40007);
    let v = send(&t, json!({ "touser": "zhangsan", "agentid": APP, "msgtype": "mpnews", "mpnews": { "media_id": image } })).await;
    assert_eq!(code(&v), 40007);
    let g2 = s.token(CORPID, GROUP2_SECRET).await;
    let v = send(&g2, json!({ "touser": "zhangsan", "agentid": APP2, "msgtype": "image", "image": { "media_id": image } })).await;
    assert_eq!(code(&v), 45029, "material must be created by the sending app: {v}");
    // WeCom has no permanent material: the same id is unknown media there.
    let app = s.token(CORPID, APP_SECRET).await;
    let v = send(&app, json!({ "touser": "zhangsan", "agentid": APP, "msgtype": "image", "image": { "media_id": image } })).await;
    assert_eq!(code(&v), 40007);
    assert_eq!(inbox(&s, "zhangsan").await.len(), 4, "nothing refused was delivered");
}

on_both_backends!(
    every_endpoint_in_the_legacy_dialect,
    wecom_tokens_are_refused,
    rights_on_the_app,
    bad_uploads_leave_nothing,
    bad_requests,
    libraries_are_limited,
    large_files_stream_and_come_back_exact,
    messages_send_material,
);
