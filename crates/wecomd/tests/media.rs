//! Temporary media over HTTP: media/upload (streamed multipart, type and size rules, both
//! dialects' answers), media/get (headers, ranges, JSON errors), 3 days by the clock,
//! media/get/jssdk, media/uploadimg and the pictures wecomd serves, media/upload_by_url, and media
//! ids checked where messages and apps name them.

mod common;

use common::*;
use serde_json::{json, Value};

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

async fn download(s: &Server, token: &str, media_id: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = s.http().get(s.url(&format!("/cgi-bin/media/get?access_token={token}&media_id={media_id}")));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.expect("request")
}

async fn uploads_in_both_dialects(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;

    let v = s.upload(&wecom, "image", "a.jpg", JPEG).await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(v["errmsg"], "", "the doc's example has an empty errmsg");
    assert_eq!(v["type"], "image");
    let media_id = v["media_id"].as_str().unwrap().to_string();
    assert!(media_id.starts_with('1') && media_id.len() == 44, "{media_id}");
    assert!(v["created_at"].as_str().unwrap().parse::<i64>().is_ok(), "created_at is a digit string: {v}");

    // 企业号: no errcode/errmsg, created_at a number (legacy-api.md §1.3).
    let l = s.upload(&legacy, "voice", "v.amr", &amr(2)).await;
    assert!(l.get("errcode").is_none() && l.get("errmsg").is_none(), "{l}");
    assert_eq!(l["type"], "voice");
    assert!(l["created_at"].is_i64(), "{l}");

    // One corp, one set of media: the 企业号 token downloads what the WeCom app uploaded.
    assert_jpeg_download(download(&s, &legacy, &media_id, None).await, &media_id).await;

    // A file keeps its name and the type its part declared; UTF-8 names travel as filename*.
    let (ct, mut body) = multipart("media", "季度报告.pdf", b"%PDF-1.4 a report");
    body = String::from_utf8(body).unwrap().replace("application/octet-stream", "application/pdf").into_bytes();
    let v = post_raw(&s, &format!("/cgi-bin/media/upload?access_token={wecom}&type=file"), &ct, body).await;
    let file_id = v["media_id"].as_str().unwrap();
    let r = download(&s, &wecom, file_id, None).await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename*=utf-8''%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf");

    // Ranges: 206 with Content-Range.
    let r = download(&s, &wecom, &media_id, Some("bytes=0-3")).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 0-3/{}", JPEG.len()).as_str());
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(&r.bytes().await.unwrap()[..], &JPEG[..4]);
    let r = download(&s, &wecom, &media_id, Some("bytes=1000-")).await;
    assert_eq!(r.status(), 416);

    // Errors are JSON with application/json; another corp's media does not exist for it.
    let other = s.token(OTHER_CORPID, OTHER_SECRET).await;
    let v = s.api(&format!("media/get?access_token={other}&media_id={media_id}")).await;
    assert_eq!(code(&v), 40007);
    assert!(v["errmsg"].as_str().unwrap().starts_with("invalid media_id, hint: ["), "{v}");
    assert_eq!(code(&s.api(&format!("media/get?access_token={wecom}")).await), 41006);
    assert_eq!(code(&s.api(&format!("media/get?access_token={wecom}&media_id=1nope")).await), 40007);
    assert_eq!(code(&s.api("media/get?access_token=bad&media_id=1nope").await), 40014);
    let v = s.api(&format!("media/get?access_token={legacy}&media_id=1nope")).await;
    assert_eq!(v, json!({ "errcode": 40007, "errmsg": "invalid media_id" }), "legacy errmsg is bare");
}

async fn bad_uploads(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let up = |ty: &'static str, data: Vec<u8>| {
        let (s, t) = (&s, t.clone());
        async move { code(&s.upload(&t, ty, "x.bin", &data).await) }
    };
    assert_eq!(up("thumb", JPEG.to_vec()).await, 40005);
    assert_eq!(up("image", b"GIF89a not accepted".to_vec()).await, 40004);
    assert_eq!(up("image", b"plain text".to_vec()).await, 40004);
    assert_eq!(up("video", b"RIFF....AVI LIST....".to_vec()).await, 40004);
    assert_eq!(up("voice", b"ID3\x03 an mp3".to_vec()).await, 301017);
    assert_eq!(up("voice", amr(61)).await, 45007);
    assert_eq!(up("voice", amr(60)).await, 0);
    assert_eq!(up("voice", b"#!AMR\n".to_vec()).await, 301016);
    assert_eq!(up("file", b"four".to_vec()).await, 40006);
    assert_eq!(up("file", Vec::new()).await, 44001);
    assert_eq!(up("video", MP4.to_vec()).await, 0);
    // Past each type's limit: the type's own errcode, refused while the body is still arriving.
    assert_eq!(up("file", vec![b'x'; 20 * 1024 * 1024 + 1]).await, 45001);
    let mut big = JPEG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    assert_eq!(up("image", big).await, 40009);
    let mut big = MP4.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    assert_eq!(up("video", big).await, 40011);
    let mut big = amr(1);
    big.resize(2 * 1024 * 1024 + 1, 0);
    assert_eq!(up("voice", big).await, 40006, "past 2 MB: the size answers before the length (45007)");

    // Wrong field name, not multipart, a truncated body: no media part → 44001.
    let path = format!("/cgi-bin/media/upload?access_token={t}&type=file");
    let (ct, body) = multipart("file", "a.txt", b"hello world");
    assert_eq!(code(&post_raw(&s, &path, &ct, body).await), 44001);
    assert_eq!(code(&post_raw(&s, &path, "application/json", b"{}".to_vec()).await), 44001);
    let (ct, mut body) = multipart("media", "a.txt", &vec![b'y'; 600 * 1024]);
    body.truncate(body.len() - 30);
    assert_eq!(code(&post_raw(&s, &path, &ct, body).await), 44001, "cut before the closing boundary");
    // A bad token is answered without reading the upload; the client still gets its answer.
    let (ct, body) = multipart("media", "a.txt", &vec![b'z'; 5 * 1024 * 1024]);
    assert_eq!(code(&post_raw(&s, "/cgi-bin/media/upload?access_token=bad&type=file", &ct, body).await), 40014);

    // Nothing of the refused uploads is left (their chunks are removed as they fail).
    let left = rows_when(db, &["media", "media_chunks"], &[2, 2]).await;
    assert_eq!(left, [2, 2], "only the accepted voice and video remain, one chunk each");
}

async fn large_files_stream_in_chunks(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let id = s.media_id(&t, "file", "big.bin", &data).await;
    assert_eq!(rows(db, "media_chunks").await, 80, "20 MiB in 256 KiB chunks");
    let r = download(&s, &t, &id, None).await;
    assert_eq!(r.headers()["content-length"], data.len().to_string().as_str());
    assert!(r.bytes().await.unwrap()[..] == data[..], "the same bytes back");
    // A range across a chunk boundary.
    let (a, b) = (256 * 1024 - 10, 256 * 1024 + 9);
    let r = download(&s, &t, &id, Some(&format!("bytes={a}-{b}"))).await;
    assert_eq!(r.status(), 206);
    assert_eq!(&r.bytes().await.unwrap()[..], &data[a..=b]);
}

async fn media_live_three_days(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let id = s.media_id(&t, "image", "a.jpg", JPEG).await;
    s.advance(3 * 86_400 - 5).await;
    let t = s.token(CORPID, APP_SECRET).await;
    assert_eq!(download(&s, &t, &id, None).await.status(), 200);
    let send = json!({ "touser": "zhangsan", "msgtype": "image", "agentid": 1000002, "image": { "media_id": id } });
    assert_eq!(code(&s.api_post(&format!("message/send?access_token={t}"), send.to_string()).await), 0);
    s.advance(10).await;
    assert_eq!(code(&s.api(&format!("media/get?access_token={t}&media_id={id}")).await), 40007);
    assert_eq!(code(&s.api_post(&format!("message/send?access_token={t}"), send.to_string()).await), 40007);
}

async fn jssdk_voices(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let voice = s.media_id(&t, "voice", "v.amr", &amr(1)).await;
    let image = s.media_id(&t, "image", "a.jpg", JPEG).await;
    let r = s.http().get(s.url(&format!("/cgi-bin/media/get/jssdk?access_token={t}&media_id={voice}"))).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "voice/amr");
    assert_eq!(r.headers()["content-disposition"], format!("attachment; filename=\"{voice}.amr\"").as_str());
    assert_eq!(r.bytes().await.unwrap().len(), amr(1).len());
    assert_eq!(code(&s.api(&format!("media/get/jssdk?access_token={t}&media_id={image}")).await), 40007);
}

async fn uploadimg_urls(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let (ct, body) = multipart("media", "p.jpg", JPEG);
    let v = post_raw(&s, &format!("/cgi-bin/media/uploadimg?access_token={wecom}"), &ct, body.clone()).await;
    assert_eq!((code(&v), v["errmsg"].as_str()), (0, Some("")), "{v}");
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/media/img/", s.base)), "{url}");
    // Permanent: still there after the 3 days of temporary media, to anyone with the URL.
    s.advance(30 * 86_400).await;
    let r = s.http().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(&r.bytes().await.unwrap()[..], JPEG);
    assert_eq!(s.http().get(s.url("/media/img/0123")).send().await.unwrap().status(), 404);

    // 企业号 (also type=card_logo for cards): `{"url":…}` alone.
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let v = post_raw(&s, &format!("/cgi-bin/media/uploadimg?access_token={legacy}&type=card_logo"), &ct, body).await;
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["url"], "{v}");
    let wecom = s.token(CORPID, APP_SECRET).await;
    let (ct, body) = multipart("media", "p.txt", b"not a picture");
    assert_eq!(code(&post_raw(&s, &format!("/cgi-bin/media/uploadimg?access_token={wecom}"), &ct, body).await), 40004);
    let mut big = JPEG.to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let (ct, body) = multipart("media", "p.jpg", &big);
    assert_eq!(code(&post_raw(&s, &format!("/cgi-bin/media/uploadimg?access_token={wecom}"), &ct, body).await), 40009);
}

async fn job_result(s: &Server, t: &str, jobid: &str) -> Value {
    for _ in 0..100 {
        let v = s.api_post(&format!("media/get_upload_by_url_result?access_token={t}"), json!({ "jobid": jobid }).to_string()).await;
        if v["status"] != 1 {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {jobid} still processing");
}

async fn upload_by_url_jobs(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let url = file_server(MP4, None).await;
    let start = |md5: String| {
        let body = json!({ "scene": 1, "type": "video", "filename": "v.mp4", "url": url, "md5": md5 });
        let (s, t) = (&s, t.clone());
        async move { s.api_post(&format!("media/upload_by_url?access_token={t}"), body.to_string()).await }
    };
    let v = start(md5_hex(MP4)).await;
    assert_eq!((code(&v), v["errmsg"].as_str()), (0, Some("ok")), "{v}");
    let r = job_result(&s, &t, v["jobid"].as_str().unwrap()).await;
    assert_eq!((code(&r), r["status"].as_i64()), (0, Some(2)), "{r}");
    assert_eq!(r["detail"]["errcode"], 0);
    let id = r["detail"]["media_id"].as_str().unwrap();
    assert!(r["detail"]["created_at"].as_str().is_some(), "{r}");
    let got = download(&s, &t, id, None).await;
    assert_eq!(got.headers()["content-type"], "video/mp4");
    assert_eq!(&got.bytes().await.unwrap()[..], MP4);

    let v = start("0".repeat(32)).await;
    let r = job_result(&s, &t, v["jobid"].as_str().unwrap()).await;
    assert_eq!((r["status"].as_i64(), r["detail"]["errcode"].as_i64()), (Some(3), Some(301019)), "{r}");

    let v = s.api_post(&format!("media/get_upload_by_url_result?access_token={t}"), json!({ "jobid": "nope" }).to_string()).await;
    assert_eq!(code(&v), 40058);
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let v = s.api_post(&format!("media/upload_by_url?access_token={legacy}"), json!({}).to_string()).await;
    assert_eq!(code(&v), 48002, "WeCom only");
}

async fn upload_by_url_fetches_https_from_trusted_hosts(db: &Db) {
    let (pem, tls) = self_signed();
    let url = file_server(MP4, Some(tls)).await;
    assert!(url.starts_with("https://"));
    let body = json!({ "scene": 1, "type": "video", "filename": "v.mp4", "url": url, "md5": md5_hex(MP4) }).to_string();
    // Not trusted: the job fails as any unfetchable URL does, saying why.
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let v = s.api_post(&format!("media/upload_by_url?access_token={t}"), body.clone()).await;
    let r = job_result(&s, &t, v["jobid"].as_str().unwrap()).await;
    assert_eq!((r["status"].as_i64(), r["detail"]["errcode"].as_i64()), (Some(3), Some(40058)), "{r}");
    assert!(r["detail"]["errmsg"].as_str().unwrap().contains("certificate"), "{r}");
    s.kill().await;
    let (_dir, ca) = ca_file(&pem);
    let s = Server::start(db, &["--tls-ca-file", &ca]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let v = s.api_post(&format!("media/upload_by_url?access_token={t}"), body).await;
    let r = job_result(&s, &t, v["jobid"].as_str().unwrap()).await;
    assert_eq!(r["status"], 2, "{r}");
    let got = download(&s, &t, r["detail"]["media_id"].as_str().unwrap(), None).await;
    assert_eq!(&got.bytes().await.unwrap()[..], MP4);
}

/// A job whose instance is killed mid-fetch is run again after the restart, from the start.
async fn interrupted_upload_by_url_jobs_resume(db: &Db) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    // The first fetch hangs until wecomd is gone; the next one is served.
    let file = move || {
        let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
        async move {
            if first {
                tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            }
            ([(axum::http::header::CONTENT_TYPE, "video/mp4")], MP4)
        }
    };
    let url = format!("{}/v.mp4", serve(axum::Router::new().route("/v.mp4", axum::routing::get(file)), None).await);
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let body = json!({ "scene": 1, "type": "video", "filename": "v.mp4", "url": url, "md5": md5_hex(MP4) });
    let v = s.api_post(&format!("media/upload_by_url?access_token={t}"), body.to_string()).await;
    let jobid = v["jobid"].as_str().unwrap().to_string();
    while requests.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    s.kill().await;
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let v = s.api_post(&format!("media/get_upload_by_url_result?access_token={t}"), json!({ "jobid": jobid }).to_string()).await;
    assert_eq!(v["status"], 1, "still processing until its lease runs out: {v}");
    let started = std::time::Instant::now();
    let r = loop {
        let v = s.api_post(&format!("media/get_upload_by_url_result?access_token={t}"), json!({ "jobid": jobid }).to_string()).await;
        if v["status"] != 1 || started.elapsed() > std::time::Duration::from_secs(40) {
            break v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(r["status"], 2, "{r}");
    assert_eq!(requests.load(Ordering::SeqCst), 2, "fetched again once");
    eprintln!("{:?}: the job resumed {:?} after the restart", db.backend, started.elapsed());
    let got = download(&s, &t, r["detail"]["media_id"].as_str().unwrap(), None).await;
    assert_eq!(&got.bytes().await.unwrap()[..], MP4);
}

async fn logos_are_uploaded_images(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let voice = s.media_id(&t, "voice", "v.amr", &amr(1)).await;
    let set = |body: Value| {
        let (s, t) = (&s, t.clone());
        async move { code(&s.api_post(&format!("agent/set?access_token={t}"), body.to_string()).await) }
    };
    assert_eq!(set(json!({ "agentid": 1000002, "logo_mediaid": "1G6nrLmr5EC3MMb_never_uploaded" })).await, 40007);
    assert_eq!(set(json!({ "agentid": 1000002, "logo_mediaid": voice })).await, 40007, "a logo is an image");
    let image = s.media_id(&t, "image", "logo.jpg", JPEG).await;
    assert_eq!(set(json!({ "agentid": 1000002, "logo_mediaid": image })).await, 0);
    // The logo outlives its media.
    s.advance(4 * 86_400).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let a = s.api(&format!("agent/get?access_token={t}&agentid=1000002")).await;
    let r = s.http().get(a["square_logo_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(&r.bytes().await.unwrap()[..], JPEG);
}

async fn messages_and_members_name_uploaded_media(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = s.token(CORPID, APP_SECRET).await;
    let image = s.media_id(&t, "image", "a.jpg", JPEG).await;
    let voice = s.media_id(&t, "voice", "v.amr", &amr(1)).await;
    let post = |path: &str, body: Value| {
        let (s, path) = (&s, format!("{path}?access_token={t}"));
        async move { code(&s.api_post(&path, body.to_string()).await) }
    };
    let chat = json!({ "chatid": "mediachat", "name": "m", "owner": "zhangsan", "userlist": ["zhangsan", "wangwu"] });
    assert_eq!(post("appchat/create", chat).await, 0);
    let to_chat = |id: &str| json!({ "chatid": "mediachat", "msgtype": "image", "image": { "media_id": id } });
    assert_eq!(post("appchat/send", to_chat("1unknown")).await, 40007);
    assert_eq!(post("appchat/send", to_chat(&image)).await, 0);

    let mpnews = |thumb: &str| {
        json!({ "touser": "zhangsan", "msgtype": "mpnews", "agentid": 1000002,
                "mpnews": { "articles": [{ "title": "t", "thumb_media_id": thumb, "content": "<p>c</p>" }] } })
    };
    assert_eq!(post("message/send", mpnews("1unknown")).await, 40007, "thumbs are media too");
    assert_eq!(post("message/send", mpnews(&image)).await, 0);
    let file = json!({ "touser": "zhangsan", "msgtype": "file", "agentid": 1000002, "file": { "media_id": voice } });
    assert_eq!(post("message/send", file).await, 0, "the platform does not tie a media's type to the msgtype");

    // avatar_mediaid names an uploaded image (301015 otherwise).
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let member =
        |avatar: &str| json!({ "userid": "avatar1", "name": "A", "department": [1], "mobile": "13800000099", "avatar_mediaid": avatar });
    let create = |body: Value| {
        let (s, sync) = (&s, sync.clone());
        async move { code(&s.api_post(&format!("user/create?access_token={sync}"), body.to_string()).await) }
    };
    assert_eq!(create(member(&voice)).await, 301015);
    assert_eq!(create(member("1unknown")).await, 301015);
    assert_eq!(create(member(&image)).await, 0);
}

on_both_backends!(
    uploads_in_both_dialects,
    bad_uploads,
    large_files_stream_in_chunks,
    media_live_three_days,
    jssdk_voices,
    uploadimg_urls,
    upload_by_url_jobs,
    upload_by_url_fetches_https_from_trusted_hosts,
    interrupted_upload_by_url_jobs_resume,
    logos_are_uploaded_images,
    messages_and_members_name_uploaded_media,
);
