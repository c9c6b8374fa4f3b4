//! Asynchronous batch jobs (wecom-api.md §7, legacy-api.md §3.6): batch/syncuser, replaceuser,
//! replaceparty, getresult and the 企业号's batch/inviteuser. The call checks who may import, the
//! media and the whole file (the model reads it), stores the job with its rows and answers its
//! jobid; the job worker (`crate::batch`) applies the rows.

use crate::api::media::usable;
use crate::auth::{internal, range, write_range, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use std::collections::HashSet;
use wecom_model::batch::{self as rules, JobType, Progress};
use wecom_model::callback::Settings;
use wecom_model::media::MediaType;
use wecom_model::{ApiError, Errcode};
use wecom_store::{MediaRow, NewJob, NewRow, Origin};

type Fields = Result<Map<String, Value>, Failure>;

fn fail(caller: &Caller) -> impl Fn(ApiError) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

/// The import endpoints and getresult take the whole directory (`rules::may_import`).
async fn may_import(app: &App, caller: &Caller) -> Result<(), Failure> {
    let write = write_range(&app.store, caller).await?;
    rules::may_import(caller.scope, &write).map_err(|e| fail(caller)(e.into()))
}

/// The media a job reads: a file the caller's corp uploaded, still within its 3 days (41006,
/// 40007 as media/get answers; another type of media is not a file either).
async fn csv_media(app: &App, req: &Request, caller: &Caller, media_id: Option<&str>) -> Result<MediaRow, Failure> {
    let media = usable(app, req, caller, media_id).await?;
    if media.media_type != MediaType::File.as_str() {
        return Err(fail(caller)(Errcode::InvalidMediaId.into()));
    }
    Ok(media)
}

/// The file's text (40092 when it is not text).
async fn csv_text(app: &App, caller: &Caller, media: &MediaRow) -> Result<String, Failure> {
    let bytes = app.store.media_content(media).await.map_err(internal)?;
    Ok(rules::decode(&bytes).map_err(fail(caller))?.into_owned())
}

/// What every start checks before reading the file, in order: rights, the body, the media, the
/// callback, another job in progress.
async fn admit(app: &App, req: &Request, caller: &Caller) -> Result<(MediaRow, Option<Settings>), Failure> {
    may_import(app, caller).await?;
    let body: rules::Start = req.json(caller.dialect())?;
    let media = csv_media(app, req, caller, body.media_id.as_deref()).await?;
    let callback = rules::job_callback(body.callback.as_ref()).map_err(fail(caller))?;
    running(app, caller).await?;
    Ok((media, callback))
}

/// Stores the job and wakes the worker; answers `{jobid}`.
async fn start(app: &App, req: &Request, caller: &Caller, job_type: JobType, callback: Option<&Settings>, rows: Vec<NewRow>) -> Fields {
    let jobid = rules::new_jobid();
    let job =
        NewJob { jobid: &jobid, job_type, origin: Origin::Caller(caller.scope), dialect: caller.dialect(), callback, rows, now: req.now };
    app.store.start_batch_job(&caller.corpid, job).await.map_err(internal)?.map_err(fail(caller))?;
    app.jobs.switch.wake();
    let mut m = Map::new();
    m.insert("jobid".into(), jobid.into());
    Ok(m)
}

async fn running(app: &App, caller: &Caller) -> Result<(), Failure> {
    if app.store.batch_running(&caller.corpid).await.map_err(internal)? {
        return Err(fail(caller)(Errcode::JobRunning.into()));
    }
    Ok(())
}

/// batch/syncuser and batch/replaceuser: a member file.
async fn members(app: &App, req: &Request, caller: &Caller, job_type: JobType) -> Fields {
    let (media, callback) = admit(app, req, caller).await?;
    let rows = rules::read_members(&csv_text(app, caller, &media).await?, caller.dialect()).map_err(fail(caller))?;
    start(app, req, caller, job_type, callback.as_ref(), rows.iter().map(NewRow::member).collect()).await
}

pub async fn syncuser(app: &App, req: &Request, caller: &Caller) -> Fields {
    members(app, req, caller, JobType::SyncUser).await
}

pub async fn replaceuser(app: &App, req: &Request, caller: &Caller) -> Fields {
    members(app, req, caller, JobType::ReplaceUser).await
}

pub async fn replaceparty(app: &App, req: &Request, caller: &Caller) -> Fields {
    let (media, callback) = admit(app, req, caller).await?;
    let rows = rules::read_parties(&csv_text(app, caller, &media).await?).map_err(fail(caller))?;
    start(app, req, caller, JobType::ReplaceParty, callback.as_ref(), rows.iter().map(NewRow::party).collect()).await
}

/// batch/getresult?jobid=: 40088 for a job the corp never had, 40089 for one older than its last 5.
pub async fn getresult(app: &App, req: &Request, caller: &Caller) -> Fields {
    may_import(app, caller).await?;
    let fail = fail(caller);
    let jobid = req
        .query
        .get("jobid")
        .filter(|j| !j.is_empty())
        .ok_or_else(|| fail(ApiError::with_detail(Errcode::InvalidRequestParameter, "jobid missing")))?;
    let job = app.store.batch_job(&caller.corpid, jobid).await.map_err(internal)?.ok_or_else(|| fail(Errcode::JobNotExist.into()))?;
    if job.cleared {
        return Err(fail(Errcode::JobCleared.into()));
    }
    let job_type =
        JobType::parse(&job.job_type).ok_or_else(|| internal(wecom_store::StoreError::Invalid(format!("job type {}", job.job_type))))?;
    // Rows are shown once the job has finished (rules::result_view): not read before.
    let rows = if job.finished { app.store.batch_results(&caller.corpid, job.seq).await.map_err(internal)? } else { vec![] };
    let p = Progress { job_type, total: job.total, done: job.done, finished: job.finished, started_at: job.created_at, now: req.now };
    Ok(rules::result_view(caller.dialect(), &p, &rows))
}

/// batch/inviteuser (企业号): the members named directly, in the departments named (with their
/// sub-departments) and in the tags named, each once. Members the group cannot see are refused in
/// the result (60011), unknown userids too (60111); departments and tags it cannot see name no one.
pub async fn inviteuser(app: &App, req: &Request, caller: &Caller) -> Fields {
    let fail = fail(caller);
    let body: rules::Invite = req.json(caller.dialect())?;
    let rules::Targets { users, parties, tags } = rules::invite_targets(&body).map_err(&fail)?;
    let callback = rules::job_callback(body.callback.as_ref()).map_err(&fail)?;
    running(app, caller).await?;
    let seen = range(app, caller).await?;
    let corpid = &caller.corpid;
    let mut rows = Vec::new();
    let mut named = HashSet::new();
    let mut add = |rows: &mut Vec<NewRow>, userid: &str, refused: Option<Errcode>| {
        if named.insert(userid.to_lowercase()) {
            rows.push(NewRow::invite(userid, refused));
        }
    };
    for u in &users {
        match app.store.member_place(corpid, u).await.map_err(internal)? {
            None => add(&mut rows, u, Some(Errcode::UseridNotFound)),
            Some(p) if !seen.sees(&p) => add(&mut rows, &p.userid, Some(Errcode::NoPrivilege)),
            Some(p) => add(&mut rows, &p.userid, None),
        }
    }
    let mut departments = parties;
    for t in tags {
        let members = app.store.tag_members(corpid, t).await.map_err(internal)?;
        for (place, _) in members.users.iter().filter(|(p, _)| seen.sees(p)) {
            add(&mut rows, &place.userid, None);
        }
        departments.extend(members.parties);
    }
    for d in departments {
        let ancestors = app.store.department_ancestors(corpid, d).await.map_err(internal)?;
        if !ancestors.is_some_and(|a| seen.sees_department(&a)) {
            continue;
        }
        for m in app.store.department_members(corpid, d, true).await.map_err(internal)? {
            add(&mut rows, &m.userid, None);
        }
    }
    if rows.is_empty() {
        return Err(fail(Errcode::InvalidParameter.into()));
    }
    start(app, req, caller, JobType::InviteUser, callback.as_ref(), rows).await
}
