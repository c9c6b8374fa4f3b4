//! Temporary media (wecom-api.md §8): media/upload, media/get (and /jssdk), media/uploadimg with
//! the pictures wecomd serves itself, media/upload_by_url and its result. Limits, formats and
//! answers are `wecom_model::media`'s; uploads stream from the request into the store. The one
//! upload path and the one download path serve the 企业号's permanent material too.

use crate::auth::{internal, Caller};
use crate::multipart;
use crate::reply::Failure;
use crate::router::Request;
use crate::{App, Clock};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use md5::{Digest, Md5};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wecom_model::credential::Scope;
use wecom_model::material::{is_material_id, new_material_id};
use wecom_model::media::{
    self as rules, check_download, content_disposition, image_path, job_view, new_media_id, upload_view, uploadimg_view, ByUrl, Check,
    JobStatus, MediaType, Range, JOB_ATTEMPTS,
};
use wecom_model::{ApiError, Endpoint, Errcode};
use wecom_store::{MediaJobRun, MediaKind, MediaRow, Store, CHUNK_BYTES};

type Fields = Result<Map<String, Value>, Failure>;

fn fail(caller: &Caller) -> impl Fn(Errcode) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

/// Reads the `media` part of the request into the store as it arrives, checking it on the way.
/// A refused or broken upload leaves nothing behind (the sink removes what it wrote).
pub(crate) async fn receive(
    app: &App,
    req: &Request,
    caller: &Caller,
    mut check: Check,
    kind: MediaKind,
    media_type: MediaType,
) -> Result<MediaRow, Failure> {
    let fail = fail(caller);
    let body = req.take_upload().ok_or(fail(Errcode::EmptyMediaData))?;
    let limit = req.endpoint.body_limit();
    let mut part =
        multipart::file(req.content_type.as_deref(), body.into_stream(), "media", limit).await.ok_or(fail(Errcode::EmptyMediaData))?;
    let id = match kind {
        MediaKind::Temporary => new_media_id(),
        MediaKind::Image => rules::new_image_id(),
        MediaKind::Material { .. } => new_material_id(),
    };
    let mut sink = app.store.media_sink(&caller.corpid, &id, kind, media_type, &part.filename, req.now).await.map_err(internal)?;
    while let Some(piece) = part.chunk().await.map_err(|_| fail(Errcode::EmptyMediaData))? {
        check.feed(&piece).map_err(&fail)?;
        sink.write(&piece).await.map_err(internal)?;
    }
    let format = check.finish().map_err(&fail)?;
    sink.commit(format, &format.content_type(part.content_type.as_deref())).await.map_err(internal)?.map_err(fail)
}

/// media/upload?type=image|voice|video|file: the type is judged before the body is read.
pub async fn upload(app: &App, req: &Request, caller: &Caller) -> Fields {
    let media_type = MediaType::parse(req.query.get("type")).map_err(fail(caller))?;
    let media = receive(app, req, caller, Check::upload(media_type), MediaKind::Temporary, media_type).await?;
    Ok(upload_view(caller.dialect(), media_type, &media.media_id, media.created_at))
}

/// The address a picture wecomd keeps is served at, on the host the client called.
fn image_url(req: &Request, image_id: &str) -> String {
    let host = req.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{}", image_path(image_id))
}

/// media/uploadimg (also the 企业号's `type=card_logo` for cards): a permanent URL.
pub async fn uploadimg(app: &App, req: &Request, caller: &Caller) -> Fields {
    let image = receive(app, req, caller, Check::uploadimg(), MediaKind::Image, MediaType::Image).await?;
    Ok(uploadimg_view(caller.dialect(), &image_url(req, &image.media_id)))
}

/// A temporary media the caller's corp may use: 41006 without an id, 40007 unknown or expired.
pub(crate) async fn usable(app: &App, req: &Request, caller: &Caller, media_id: Option<&str>) -> Result<MediaRow, Failure> {
    let fail = fail(caller);
    let media_id = media_id.filter(|m| !m.is_empty()).ok_or(fail(Errcode::MediaIdMissing))?;
    app.store.media(&caller.corpid, media_id, req.now).await.map_err(internal)?.ok_or(fail(Errcode::InvalidMediaId))
}

/// Every media a message names must be usable: a temporary media of the caller's corp (40007), or
/// when `owner` names the app a message may name permanent material of (`material_owner`), a
/// material id (`2…`) of that app.
pub(crate) async fn require_named(
    app: &App,
    req: &Request,
    caller: &Caller,
    owner: Option<i64>,
    msgtype: &str,
    payload: &Value,
) -> Result<(), Failure> {
    for id in rules::named_media(msgtype, payload) {
        match owner.filter(|_| is_material_id(id)) {
            Some(agentid) => {
                super::material::owned(app, caller, agentid, Some(id)).await?;
            }
            None => {
                usable(app, req, caller, Some(id)).await?;
            }
        }
    }
    Ok(())
}

/// An app logo: a temporary image made permanent, served by wecomd (40007 for anything else).
pub(crate) async fn keep_logo(app: &App, req: &Request, caller: &Caller, media_id: &str) -> Result<String, Failure> {
    let media = usable(app, req, caller, Some(media_id)).await?;
    if media.media_type != MediaType::Image.as_str() {
        return Err(fail(caller)(Errcode::InvalidMediaId));
    }
    let image_id = app.store.keep_image(&media, req.now).await.map_err(internal)?;
    Ok(image_url(req, &image_id))
}

/// media/get and media/get/jssdk: the file, whole or the Range asked for. get/jssdk serves voices
/// only (the high-quality copy of a JS-SDK recording; wecomd has the upload itself).
pub async fn get(app: &App, req: &Request, caller: &Caller) -> Result<Response, Failure> {
    let media = usable(app, req, caller, req.query.get("media_id")).await?;
    if req.endpoint == Endpoint::MediaGetJssdk && media.media_type != MediaType::Voice.as_str() {
        return Err(fail(caller)(Errcode::InvalidMediaId));
    }
    download(app, req, caller, &media)
}

/// A stored file as a download (media/get, material/get): the Range asked for (830002 over 20 MB)
/// and the name clients save it under.
pub(crate) fn download(app: &App, req: &Request, caller: &Caller, media: &MediaRow) -> Result<Response, Failure> {
    let range = Range::parse(req.headers.get(header::RANGE).and_then(|h| h.to_str().ok()), media.size);
    check_download(range, media.size).map_err(fail(caller))?;
    let name = media.format.download_name(&media.media_id, &media.filename);
    Ok(file_response(&app.store, media, range, Some(&name)))
}

/// GET /media/img/<image_id>: a picture from media/uploadimg or an app logo, to anyone with the
/// URL (as the platform's CDN serves them). Unknown → 404.
pub async fn image(State(app): State<Arc<App>>, Path(image_id): Path<String>, headers: HeaderMap) -> Response {
    match app.store.image(&image_id).await {
        Ok(Some(media)) => {
            let range = Range::parse(headers.get(header::RANGE).and_then(|h| h.to_str().ok()), media.size);
            file_response(&app.store, &media, range, None)
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!("cannot read picture {image_id}: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The file's bytes, read from the store one chunk at a time as the client takes them, with the
/// headers clients rely on (wecom-api.md §8.2): Content-Type, Content-disposition with the name
/// (downloads only), Content-Length, Accept-Ranges and, for a range, 206 with Content-Range.
fn file_response(store: &Store, media: &MediaRow, range: Range, download_name: Option<&str>) -> Response {
    let size = media.size;
    let (status, start, end) = match range {
        Range::Whole => (StatusCode::OK, 0, size.saturating_sub(1)),
        Range::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        Range::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            insert(r.headers_mut(), header::CONTENT_RANGE, &format!("bytes */{size}"));
            return r;
        }
    };
    let len = if size == 0 { 0 } else { end - start + 1 };
    let mut r = Response::new(chunks(store.clone(), media.media_id.clone(), start, end, len));
    *r.status_mut() = status;
    let h = r.headers_mut();
    insert(h, header::CONTENT_TYPE, &media.content_type);
    if let Some(name) = download_name {
        insert(h, header::CONTENT_DISPOSITION, &content_disposition(name));
    }
    insert(h, header::CACHE_CONTROL, "no-cache, must-revalidate");
    insert(h, header::ACCEPT_RANGES, "bytes");
    insert(h, header::CONTENT_LENGTH, &len.to_string());
    if status == StatusCode::PARTIAL_CONTENT {
        insert(h, header::CONTENT_RANGE, &format!("bytes {start}-{end}/{size}"));
    }
    r
}

fn insert(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// Bytes `start..=end` of a stored file as a stream of its chunks.
fn chunks(store: Store, media_id: String, start: u64, end: u64, len: u64) -> Body {
    if len == 0 {
        return Body::empty();
    }
    let chunk = CHUNK_BYTES as u64;
    let (first, last) = (start / chunk, end / chunk);
    let stream = futures_util::stream::try_unfold(first, move |seq| {
        let (store, media_id) = (store.clone(), media_id.clone());
        async move {
            if seq > last {
                return Ok(None);
            }
            let data =
                store.media_chunk(&media_id, seq as i64).await?.ok_or_else(|| wecom_store::StoreError::NotFound(media_id.clone()))?;
            let to = if seq == last { (end % chunk) as usize + 1 } else { data.len() }.min(data.len());
            let from = if seq == first { (start % chunk) as usize } else { 0 }.min(to);
            Ok::<_, wecom_store::StoreError>(Some((Bytes::from(data).slice(from..to), seq + 1)))
        }
    });
    Body::from_stream(stream)
}

/// A job's lease: renewed every third of it while the job runs, taken over when it runs out
/// (the instance running it stopped). Real milliseconds, as delivery leases.
const JOB_LEASE_MS: i64 = 15_000;
/// How often an instance looks for jobs to take over.
const JOB_TAKEOVER: Duration = Duration::from_secs(5);

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// media/upload_by_url: a job that fetches the URL in the background (wecom-api.md §8.5).
pub async fn upload_by_url(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let job = rules::by_url(&body).map_err(|e| Failure::new(e, Some(caller.dialect())))?;
    let jobid = wecom_model::credential::random_url_safe(32);
    // The app whose token starts the job gets upload_media_job_finish.
    let agentid = match caller.scope {
        Scope::App { agentid } => agentid,
        _ => 0,
    };
    let lease = now_ms() + JOB_LEASE_MS;
    app.store.create_media_job(&caller.corpid, &jobid, agentid, &job, &app.instance, lease, req.now).await.map_err(internal)?;
    Jobs::of(app).run(MediaJobRun { jobid: jobid.clone(), corpid: caller.corpid.to_string(), agentid, job: Some(job), attempts: 1 });
    let mut m = Map::new();
    m.insert("jobid".into(), jobid.into());
    Ok(m)
}

/// What running an upload_by_url job needs, apart from the request that started it.
#[derive(Clone)]
struct Jobs {
    store: Store,
    http: reqwest::Client,
    clock: Arc<Clock>,
    instance: String,
}

impl Jobs {
    fn of(app: &App) -> Jobs {
        Jobs { store: app.store.clone(), http: app.http.clone(), clock: app.clock.clone(), instance: app.instance.clone() }
    }

    /// Runs a job this instance holds in the background, renewing its lease meanwhile, and
    /// records its end (with the upload_media_job_finish event). A job kept without its request,
    /// or whose runs keep being cut off (JOB_ATTEMPTS), fails with -1.
    fn run(self, run: MediaJobRun) {
        tokio::spawn(async move {
            let renewing = self.renew(&run.jobid);
            let outcome = match &run.job {
                Some(job) if run.attempts <= JOB_ATTEMPTS => fetch(&self.store, &self.http, &run.corpid, job, self.clock.now()).await,
                _ => Err(Errcode::SystemBusy.into()),
            };
            renewing.abort();
            let outcome = match &outcome {
                Ok(media) => Ok(media.media_id.as_str()),
                Err(e) => Err((e.errcode, e.text.as_ref())),
            };
            match self.store.end_media_job(&run.jobid, &self.instance, outcome, self.clock.now()).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!("upload_by_url job {}: gone (a reset) or taken over by another instance", run.jobid),
                Err(e) => tracing::warn!("cannot record the end of upload_by_url job {}: {e}", run.jobid),
            }
        });
    }

    fn renew(&self, jobid: &str) -> tokio::task::JoinHandle<()> {
        let (jobs, jobid) = (self.clone(), jobid.to_string());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(JOB_LEASE_MS as u64 / 3)).await;
                match jobs.store.renew_media_job(&jobid, &jobs.instance, now_ms() + JOB_LEASE_MS).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!("cannot renew upload_by_url job {jobid}: {e}"),
                }
            }
        })
    }
}

/// Takes over, every few seconds, the upload_by_url jobs whose instance stopped (their lease ran
/// out): a restart or another instance runs them again from the start.
pub(crate) fn spawn_job_takeover(app: Arc<App>) {
    tokio::spawn(async move {
        loop {
            match app.store.claim_media_jobs(&app.instance, now_ms(), JOB_LEASE_MS).await {
                Ok(runs) => runs.into_iter().for_each(|run| Jobs::of(&app).run(run)),
                Err(e) => tracing::warn!("upload_by_url takeover: {e}"),
            }
            tokio::time::sleep(JOB_TAKEOVER).await;
        }
    });
}

/// Fetches a job's URL into a new temporary media, checked like an upload (200 MB at most) and
/// against the md5 given (301019). A URL that cannot be fetched fails the job with 40058.
async fn fetch(store: &Store, http: &reqwest::Client, corpid: &str, job: &ByUrl, now: i64) -> Result<MediaRow, ApiError> {
    let unfetchable = |e: &dyn std::error::Error| {
        ApiError::with_detail(Errcode::InvalidRequestParameter, format!("url cannot be fetched: {}", crate::callback::causes(e)))
    };
    let busy = |e: wecom_store::StoreError| {
        tracing::warn!("upload_by_url: {e}");
        ApiError::from(Errcode::SystemBusy)
    };
    let mut resp = http.get(&job.url).send().await.map_err(|e| unfetchable(&e))?;
    if !resp.status().is_success() {
        let status = resp.status();
        return Err(ApiError::with_detail(Errcode::InvalidRequestParameter, format!("url cannot be fetched: HTTP {status}")));
    }
    // The type the URL was served with becomes a file's Content-Type, as an upload's part type does.
    let served_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .map(|t| t.split(';').next().unwrap_or("").trim().to_string());
    let mut check = Check::by_url(job.media_type);
    let mut md5 = Md5::new();
    let mut sink =
        store.media_sink(corpid, &new_media_id(), MediaKind::Temporary, job.media_type, &job.filename, now).await.map_err(busy)?;
    while let Some(piece) = resp.chunk().await.map_err(|e| unfetchable(&e))? {
        check.feed(&piece)?;
        md5.update(&piece);
        sink.write(&piece).await.map_err(busy)?;
    }
    let format = check.finish()?;
    let digest: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if digest != job.md5 {
        return Err(Errcode::InvalidMd5.into());
    }
    Ok(sink.commit(format, &format.content_type(served_type.as_deref())).await.map_err(busy)??)
}

/// media/get_upload_by_url_result `{"jobid":…}`: unknown or missing jobid → 40058.
pub async fn get_upload_by_url_result(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let invalid = || Failure::new(ApiError::with_detail(Errcode::InvalidRequestParameter, "jobid invalid"), Some(caller.dialect()));
    let jobid = body.get("jobid").and_then(Value::as_str).filter(|j| !j.is_empty()).ok_or_else(invalid)?;
    let job = app.store.media_job(&caller.corpid, jobid).await.map_err(internal)?.ok_or_else(invalid)?;
    let created_at = match job.status {
        JobStatus::Finished => {
            app.store.media(&caller.corpid, &job.media_id, req.now).await.map_err(internal)?.map_or(job.created_at, |m| m.created_at)
        }
        _ => job.created_at,
    };
    Ok(job_view(job.status, job.errcode, &job.errmsg, &job.media_id, created_at))
}
