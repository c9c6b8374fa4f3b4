//! Batch jobs (tables `batch_jobs`, `batch_rows`): started with their rows, then processed in
//! steps. A step is one transaction that takes the job's lease (its row, locked until the commit),
//! applies the next rows through the same member and department writes the API makes (events
//! included), records each row's outcome and moves `done` past them; so a crash repeats no row
//! and loses none, and two instances never work on one job at once. The last step records
//! batch_job_result for the job's receiver. Rules are `wecom_model::batch`'s.

use crate::contact::params;
use crate::department::{apply_write, lock, tree, Applied, DepartmentWrite};
use crate::event::{record_addressed, Origin};
use crate::member::{delete_members_in, load_member};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};
use wecom_model::batch::{
    self as rules, invite_type, party_deletions, party_write, JobType, MemberRow, PartyRow, PartyWrite, RowResult, MEMBER_CREATED,
    MEMBER_UPDATED,
};
use wecom_model::callback::{Owner, Settings};
use wecom_model::department::{Tree, ROOT};
use wecom_model::scope::WriteRange;
use wecom_model::user;
use wecom_model::{ApiError, Dialect, Errcode};

/// How long a step's lease keeps other instances off a job (real time).
const LEASE_MS: i64 = 10_000;
/// Rows inserted per statement when a job starts (SQLite binds, see contact.rs).
const INSERT_ROWS: usize = 32;
/// Rows a job processes per step unless told otherwise (`Store::with_batch_rows`).
pub const BATCH_ROWS: i64 = 500;

/// The phases of a job after its rows: deleting what the file does not have (replace_user,
/// replace_party), then deleting departments a replace_party left until they were empty (member
/// imports).
const ROWS: i64 = 0;
const DELETIONS: i64 = 1;
const EMPTIED: i64 = 2;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A job as the store keeps it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JobRow {
    pub corpid: String,
    pub seq: i64,
    pub jobid: String,
    pub job_type: String,
    pub total: i64,
    pub done: i64,
    pub phase: i64,
    pub finished: bool,
    /// Older than the corp's last 5 jobs: its rows are gone (40089).
    pub cleared: bool,
    pub errcode: i64,
    pub errmsg: String,
    pub created_at: i64,
}

fn job_of(r: &AnyRow) -> JobRow {
    JobRow {
        corpid: r.get("corpid"),
        seq: r.get("seq"),
        jobid: r.get("jobid"),
        job_type: r.get("job_type"),
        total: r.get("total"),
        done: r.get("done"),
        phase: r.get("phase"),
        finished: r.get::<i64, _>("finished") != 0,
        cleared: r.get::<i64, _>("cleared") != 0,
        errcode: r.get("errcode"),
        errmsg: r.get("errmsg"),
        created_at: r.get("created_at"),
    }
}

const JOB_COLUMNS: &str = "corpid, seq, jobid, job_type, total, done, phase, finished, cleared, errcode, errmsg, created_at";

/// One row of a job as it starts: its key, its label and its input (JSON of the model's row).
pub struct NewRow {
    pub key: String,
    pub label: String,
    pub input: String,
}

impl NewRow {
    pub fn member(row: &MemberRow) -> NewRow {
        NewRow { key: row.userid().to_lowercase(), label: row.userid().to_string(), input: crate::json_text(row) }
    }

    pub fn party(row: &PartyRow) -> NewRow {
        NewRow { key: row.id.to_string(), label: row.id.to_string(), input: crate::json_text(row) }
    }

    /// A member to invite, and the refusal already known when the call named it (unknown, or
    /// outside the caller's range).
    pub fn invite(userid: &str, refused: Option<Errcode>) -> NewRow {
        let refused = refused.map(|e| (e.code(), e.text().to_string()));
        NewRow { key: userid.to_lowercase(), label: userid.to_string(), input: crate::json_text(&NewInvite { refused }) }
    }
}

/// An invitation row's input: the errcode and errmsg it is refused with, when known at the call.
#[derive(Serialize, serde::Deserialize)]
struct NewInvite {
    refused: Option<(i64, String)>,
}

pub struct NewJob<'a> {
    pub jobid: &'a str,
    pub job_type: JobType,
    pub origin: Origin,
    pub dialect: Dialect,
    pub callback: Option<&'a Settings>,
    pub rows: Vec<NewRow>,
    pub now: i64,
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Finished, or another instance holds the job.
    Idle,
    /// Rows or deletions are left; `changed` says whether contacts changed.
    More { changed: bool },
    /// The job finished with this step.
    Finished { changed: bool },
}

/// The job's settings a step reads.
struct Claimed {
    jobid: String,
    job_type: JobType,
    origin: Origin,
    dialect: Dialect,
    has_callback: bool,
    total: i64,
    done: i64,
    phase: i64,
}

impl Store {
    /// Rows a job processes per transaction (at least 1).
    pub fn with_batch_rows(self, rows: i64) -> Store {
        Store { batch_rows: rows.max(1), ..self }
    }

    /// Starts a job with its rows, unless another job of the corp is unfinished (302008) or,
    /// for replace_user, the members the file leaves out trip the deletion protection (45026).
    /// The corp's jobs before its last 5 are cleared. Answers the job's number.
    pub async fn start_batch_job(&self, corpid: &str, job: NewJob<'_>) -> Result<Result<i64, ApiError>> {
        let mut tx = self.write.begin().await?;
        if running(&mut tx, corpid).await? {
            return Ok(Err(Errcode::JobRunning.into()));
        }
        let seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM batch_jobs WHERE corpid = $1")
            .bind(corpid)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        let cb = job.callback;
        let inserted = sqlx::query(
            "INSERT INTO batch_jobs (corpid, seq, jobid, job_type, origin, dialect, callback_url, callback_token, callback_aeskey, total, done, \
             phase, finished, errcode, errmsg, created_at, finished_at, claimed_by, claimed_until, cleared) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, 0, 0, '', $11, 0, '', 0, 0)",
        )
        .bind(corpid)
        .bind(seq)
        .bind(job.jobid)
        .bind(job.job_type.as_str())
        .bind(job.origin.key())
        .bind(job.dialect.as_str())
        .bind(cb.map_or("", |c| c.url.as_str()))
        .bind(cb.map_or("", |c| c.token.as_str()))
        .bind(cb.map_or("", |c| c.encodingaeskey.as_str()))
        .bind(job.rows.len() as i64)
        .bind(job.now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // A racing start on another instance took the corp's one unfinished job.
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Ok(Err(Errcode::JobRunning.into())),
            Err(e) => return Err(e.into()),
        }
        for (i, chunk) in job.rows.chunks(INSERT_ROWS).enumerate() {
            let sql = format!(
                "INSERT INTO batch_rows (corpid, seq, n, key, label, input, done, action, invitetype, errcode, errmsg) VALUES {}",
                (0..chunk.len()).map(|r| format!("({}, 0, 0, 0, 0, '')", params(r * 6 + 1, 6))).collect::<Vec<_>>().join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (j, row) in chunk.iter().enumerate() {
                let n = (i * INSERT_ROWS + j + 1) as i64;
                q = q.bind(corpid).bind(seq).bind(n).bind(&row.key).bind(&row.label).bind(&row.input);
            }
            q.execute(&mut *tx).await?;
        }
        if job.job_type == JobType::ReplaceUser && protected(&mut tx, corpid, seq).await? {
            return Ok(Err(Errcode::DeleteProtection.into()));
        }
        sqlx::query("UPDATE batch_jobs SET cleared = 1 WHERE corpid = $1 AND seq <= $2 AND cleared = 0")
            .bind(corpid)
            .bind(seq - rules::KEPT_JOBS)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM batch_rows WHERE corpid = $1 AND seq <= $2")
            .bind(corpid)
            .bind(seq - rules::KEPT_JOBS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(seq))
    }

    /// Does the corp have an unfinished job (302008 before a file is even read)?
    pub async fn batch_running(&self, corpid: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM batch_jobs WHERE corpid = $1 AND finished = 0")
            .bind(corpid)
            .fetch_optional(&self.read)
            .await?
            .is_some())
    }

    pub async fn batch_job(&self, corpid: &str, jobid: &str) -> Result<Option<JobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM batch_jobs WHERE corpid = $1 AND jobid = $2");
        Ok(sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(jobid).fetch_optional(&self.read).await?.as_ref().map(job_of))
    }

    /// The outcomes of a job's processed rows, in file order.
    pub async fn batch_results(&self, corpid: &str, seq: i64) -> Result<Vec<RowResult>> {
        let rows = sqlx::query(
            "SELECT label, action, invitetype, errcode, errmsg FROM batch_rows WHERE corpid = $1 AND seq = $2 AND done = 1 ORDER BY n",
        )
        .bind(corpid)
        .bind(seq)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| RowResult {
                key: r.get("label"),
                action: r.get("action"),
                invitetype: r.get("invitetype"),
                errcode: r.get("errcode"),
                errmsg: r.get("errmsg"),
            })
            .collect())
    }

    /// Unfinished jobs of every corp, for the control API.
    pub async fn unfinished_batch_jobs(&self) -> Result<Vec<JobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM batch_jobs WHERE finished = 0 ORDER BY corpid, seq");
        Ok(sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.read).await?.iter().map(job_of).collect())
    }

    /// Jobs this instance may work on: unfinished, and held by no live lease but its own.
    pub async fn due_batch_jobs(&self, instance: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT corpid, seq FROM batch_jobs WHERE finished = 0 AND (claimed_until < $1 OR claimed_by = $2) ORDER BY created_at, seq",
        )
        .bind(now_ms())
        .bind(instance)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// One step of job `seq` by `instance`; `now` is wecomd's clock (events' CreateTime).
    pub async fn batch_step(&self, corpid: &str, seq: i64, instance: &str, now: i64) -> Result<Step> {
        let mut tx = self.write.begin().await?;
        let Some(job) = claim(&mut tx, corpid, seq, instance).await? else { return Ok(Step::Idle) };
        let limit = self.batch_rows;
        let outcome = match (job.job_type, job.phase) {
            (JobType::ReplaceUser, ROWS) if job.done == 0 && protected(&mut tx, corpid, seq).await? => {
                // The directory changed since the call: the import stops before any row.
                let refused = ApiError::from(Errcode::DeleteProtection);
                sqlx::query("UPDATE batch_rows SET done = 1, errcode = $3, errmsg = $4 WHERE corpid = $1 AND seq = $2")
                    .bind(corpid)
                    .bind(seq)
                    .bind(refused.errcode)
                    .bind(refused.text.as_ref())
                    .execute(&mut *tx)
                    .await?;
                finish(&mut tx, corpid, seq, &job, &refused, now).await?;
                Step::Finished { changed: false }
            }
            (_, ROWS) => {
                let rows =
                    sqlx::query("SELECT n, key, input FROM batch_rows WHERE corpid = $1 AND seq = $2 AND n > $3 ORDER BY n LIMIT $4")
                        .bind(corpid)
                        .bind(seq)
                        .bind(job.done)
                        .bind(limit)
                        .fetch_all(&mut *tx)
                        .await?;
                let mut changed = false;
                let mut tree = match job.job_type {
                    JobType::ReplaceParty => {
                        lock(&mut tx, self.backend, corpid, &mut vec![]).await?;
                        Some(tree(&mut *tx, corpid).await?)
                    }
                    _ => None,
                };
                let mut known = match job.job_type {
                    JobType::SyncUser | JobType::ReplaceUser => {
                        department_ids(&mut tx, "SELECT id FROM departments WHERE corpid = $1", corpid).await?
                    }
                    _ => HashSet::new(),
                };
                for r in &rows {
                    let input: String = r.get("input");
                    let outcome = match (job.job_type, tree.as_mut()) {
                        (JobType::ReplaceParty, Some(tree)) => self.party_row(&mut tx, corpid, &job, tree, &input, now).await?,
                        (JobType::InviteUser, _) => invite_row(&mut tx, corpid, &r.get::<String, _>("key"), &input).await?,
                        _ => self.member_row(&mut tx, corpid, seq, &job, &mut known, &input, now).await?,
                    };
                    changed |= outcome.errcode == 0 && job.job_type != JobType::InviteUser && outcome.action != 0;
                    sqlx::query(
                        "UPDATE batch_rows SET done = 1, action = $4, invitetype = $5, errcode = $6, errmsg = $7 WHERE corpid = $1 AND seq = $2 AND n = $3",
                    )
                    .bind(corpid)
                    .bind(seq)
                    .bind(r.get::<i64, _>("n"))
                    .bind(outcome.action)
                    .bind(outcome.invitetype)
                    .bind(outcome.errcode)
                    .bind(&outcome.errmsg)
                    .execute(&mut *tx)
                    .await?;
                }
                let done = job.done + rows.len() as i64;
                let next = match job.job_type {
                    _ if done < job.total => ROWS,
                    JobType::ReplaceUser | JobType::ReplaceParty => DELETIONS,
                    JobType::SyncUser => EMPTIED,
                    JobType::InviteUser => {
                        finish(&mut tx, corpid, seq, &job, &rules::ok(), now).await?;
                        tx.commit().await?;
                        return Ok(Step::Finished { changed });
                    }
                };
                progress(&mut tx, corpid, seq, done, next).await?;
                Step::More { changed }
            }
            (JobType::ReplaceUser, DELETIONS) => {
                let gone: Vec<String> = sqlx::query(
                    "SELECT m.userid FROM members m WHERE m.corpid = $1 AND NOT EXISTS \
                     (SELECT 1 FROM batch_rows r WHERE r.corpid = m.corpid AND r.seq = $2 AND r.key = m.userid_key) ORDER BY m.userid_key LIMIT $3",
                )
                .bind(corpid)
                .bind(seq)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
                let changes: Vec<_> = gone.iter().map(|u| user::deleted_event(u)).collect();
                if let Err(e) = delete_members_in(&mut tx, corpid, &gone, Errcode::UseridNotFound, job.origin, &changes, now).await? {
                    return Err(StoreError::Conflict(format!("batch job {seq} of {corpid}: deleting members: {}", e.text)));
                }
                if gone.len() as i64 == limit {
                    Step::More { changed: true }
                } else {
                    progress(&mut tx, corpid, seq, job.done, EMPTIED).await?;
                    Step::More { changed: !gone.is_empty() }
                }
            }
            (JobType::ReplaceParty, DELETIONS) | (_, EMPTIED) => {
                lock(&mut tx, self.backend, corpid, &mut vec![]).await?;
                let mut tree = tree(&mut *tx, corpid).await?;
                let keep: HashSet<i64> = if job.job_type == JobType::ReplaceParty {
                    let ids = sqlx::query("SELECT key FROM batch_rows WHERE corpid = $1 AND seq = $2")
                        .bind(corpid)
                        .bind(seq)
                        .fetch_all(&mut *tx)
                        .await?;
                    ids.iter().filter_map(|r| r.get::<String, _>(0).parse().ok()).collect()
                } else {
                    let doomed =
                        department_ids(&mut tx, "SELECT department_id FROM batch_doomed_departments WHERE corpid = $1", corpid).await?;
                    tree.subtree(ROOT).iter().map(|d| d.id).filter(|id| !doomed.contains(id)).collect()
                };
                let occupied =
                    department_ids(&mut tx, "SELECT DISTINCT department_id FROM member_departments WHERE corpid = $1", corpid).await?;
                let (deletable, kept) = party_deletions(&tree, &keep, |d| occupied.contains(&d));
                let this_step = &deletable[..deletable.len().min(limit as usize)];
                for &id in this_step {
                    let dialect = job.dialect;
                    match apply_write(
                        &mut tx,
                        self.backend,
                        corpid,
                        job.origin,
                        DepartmentWrite::Delete(id),
                        dialect,
                        &WriteRange::All,
                        &tree,
                        now,
                    )
                    .await?
                    {
                        Ok(_) => tree.remove(id),
                        Err(e) => {
                            return Err(StoreError::Conflict(format!("batch job {seq} of {corpid}: deleting department {id}: {}", e.text)))
                        }
                    }
                }
                if this_step.len() < deletable.len() {
                    Step::More { changed: true }
                } else {
                    if job.job_type == JobType::ReplaceParty {
                        // What is left here waits for a member import to empty it.
                        sqlx::query("DELETE FROM batch_doomed_departments WHERE corpid = $1").bind(corpid).execute(&mut *tx).await?;
                        for id in &kept {
                            sqlx::query("INSERT INTO batch_doomed_departments (corpid, department_id) VALUES ($1, $2)")
                                .bind(corpid)
                                .bind(*id)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    finish(&mut tx, corpid, seq, &job, &rules::ok(), now).await?;
                    Step::Finished { changed: !this_step.is_empty() }
                }
            }
            (_, phase) => return Err(StoreError::Invalid(format!("batch job {seq} of {corpid} is in no phase {phase}"))),
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// A member row. One that names departments the corp lacks runs in a savepoint, so that a
    /// refused row leaves none of the departments made for it; `known` is the corp's department
    /// ids, read once per step.
    #[allow(clippy::too_many_arguments)]
    async fn member_row(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        seq: i64,
        job: &Claimed,
        known: &mut HashSet<i64>,
        input: &str,
        now: i64,
    ) -> Result<RowResult> {
        let row: MemberRow = serde_json::from_str(input).map_err(|e| StoreError::Invalid(format!("batch row {input}: {e}")))?;
        // Ids no department could have go straight to the member write's 60123, not through the
        // lock and tree read below, row after row.
        let missing: Vec<i64> = row.departments().into_iter().filter(|id| rules::creatable(*id) && !known.contains(id)).collect();
        if missing.is_empty() {
            let (action, applied) = self.member_write(tx, corpid, job, &row, now).await?;
            return Ok(outcome(action, applied));
        }
        sqlx::query("SAVEPOINT batch_row").execute(&mut **tx).await?;
        let (action, applied) = match self.place_departments(tx, corpid, seq, job, &missing, now).await? {
            Ok(made) => {
                let written = self.member_write(tx, corpid, job, &row, now).await?;
                if written.1.is_ok() {
                    known.extend(made);
                }
                written
            }
            Err(e) => (0, Err(e)),
        };
        if applied.is_err() {
            sqlx::query("ROLLBACK TO SAVEPOINT batch_row").execute(&mut **tx).await?;
        }
        sqlx::query("RELEASE SAVEPOINT batch_row").execute(&mut **tx).await?;
        Ok(outcome(action, applied))
    }

    /// user/update of the member a row names, or user/create when there is none.
    async fn member_write(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        job: &Claimed,
        row: &MemberRow,
        now: i64,
    ) -> Result<(i64, std::result::Result<(), ApiError>)> {
        let userid = row.userid().to_string();
        let dialect = job.dialect;
        let body = match row.body() {
            Ok(b) => b,
            Err(e) => return Ok((0, Err(e))),
        };
        let apply = |old: &user::Member| {
            let new = user::update(dialect, old, body)?;
            let change = user::updated_event(old, &new);
            Ok((new, change))
        };
        match self.update_member_in(tx, corpid, &userid, job.origin, now, apply).await? {
            Err(e) if e.errcode == Errcode::UseridNotFound.code() => {}
            updated => return Ok((MEMBER_UPDATED, updated)),
        }
        let created = match row.body().and_then(|b| user::create(dialect, b)) {
            Ok(m) => {
                let change = user::created_event(&m);
                self.create_member_in(tx, corpid, &m, job.origin, &change, now).await?
            }
            Err(e) => Err(e),
        };
        Ok((MEMBER_CREATED, created))
    }

    /// Creates the `missing` departments a member row names under 其他(待设置部门) (made first
    /// when the corp has none), each with its create_party event; answers the ids it made.
    async fn place_departments(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        seq: i64,
        job: &Claimed,
        missing: &[i64],
        now: i64,
    ) -> Result<std::result::Result<Vec<i64>, ApiError>> {
        lock(tx, self.backend, corpid, &mut vec![]).await?;
        let mut tree = tree(&mut **tx, corpid).await?;
        let largest_named = match rules::unplaced(&tree) {
            Some(_) => 0,
            None => {
                let inputs = sqlx::query("SELECT input FROM batch_rows WHERE corpid = $1 AND seq = $2")
                    .bind(corpid)
                    .bind(seq)
                    .fetch_all(&mut **tx)
                    .await?;
                let rows: Vec<MemberRow> = inputs.iter().filter_map(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()).collect();
                rules::largest_named_department(&rows)
            }
        };
        let mut made = Vec::new();
        for create in rules::unplaced_creates(&tree, missing, largest_named) {
            let op = DepartmentWrite::Create(create);
            match apply_write(tx, self.backend, corpid, job.origin, op, job.dialect, &WriteRange::All, &tree, now).await? {
                Ok(Applied::Written(d)) => {
                    made.push(d.id);
                    tree.put(d);
                }
                Ok(Applied::Deleted(_)) => {}
                Err(e) => return Ok(Err(e)),
            }
        }
        Ok(Ok(made))
    }

    /// A department row: department/create or update as the row asks, on the step's tree.
    async fn party_row(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        job: &Claimed,
        tree: &mut Tree,
        input: &str,
        now: i64,
    ) -> Result<RowResult> {
        let row: PartyRow = serde_json::from_str(input).map_err(|e| StoreError::Invalid(format!("batch row {input}: {e}")))?;
        let (action, write) = party_write(tree, &row);
        let op = match write {
            PartyWrite::Create(c) => DepartmentWrite::Create(c),
            PartyWrite::Update(u) => DepartmentWrite::Update(u),
            PartyWrite::Nothing => return Ok(outcome(action, Ok(()))),
        };
        // The file's orders are WeCom's (larger first), whoever calls.
        let applied = match apply_write(tx, self.backend, corpid, job.origin, op, Dialect::WeCom, &WriteRange::All, tree, now).await? {
            Ok(Applied::Written(d)) => {
                tree.put(d);
                Ok(())
            }
            Ok(Applied::Deleted(_)) => Ok(()),
            Err(e) => Err(e),
        };
        Ok(outcome(action, applied))
    }
}

/// The department ids a query of the corp's answers.
async fn department_ids(tx: &mut Transaction<'static, Any>, sql: &'static str, corpid: &str) -> Result<HashSet<i64>> {
    Ok(sqlx::query(sql).bind(corpid).fetch_all(&mut **tx).await?.iter().map(|r| r.get(0)).collect())
}

async fn running(tx: &mut Transaction<'static, Any>, corpid: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM batch_jobs WHERE corpid = $1 AND finished = 0").bind(corpid).fetch_optional(&mut **tx).await?.is_some())
}

/// Would replace_user job `seq` delete too many members (45026)?
async fn protected(tx: &mut Transaction<'static, Any>, corpid: &str, seq: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM batch_rows r WHERE r.corpid = m.corpid AND r.seq = $2 AND r.key = m.userid_key) \
         THEN 0 ELSE 1 END), 0) FROM members m WHERE m.corpid = $1",
    )
    .bind(corpid)
    .bind(seq)
    .fetch_one(&mut **tx)
    .await?;
    let (existing, to_delete): (i64, i64) = (row.get(0), row.get(1));
    Ok(rules::deletion_protected(to_delete, existing))
}

/// Takes job `seq`'s lease for this step: its row stays locked until the step commits, so a second
/// worker waits and then sees the lease is held (or the job done).
async fn claim(tx: &mut Transaction<'static, Any>, corpid: &str, seq: i64, instance: &str) -> Result<Option<Claimed>> {
    let now = now_ms();
    let row = sqlx::query(
        "UPDATE batch_jobs SET claimed_by = $3, claimed_until = $4 WHERE corpid = $1 AND seq = $2 AND finished = 0 \
         AND (claimed_by = $3 OR claimed_until < $5) RETURNING jobid, job_type, origin, dialect, callback_url, total, done, phase",
    )
    .bind(corpid)
    .bind(seq)
    .bind(instance)
    .bind(now + LEASE_MS)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let job_type: String = r.get("job_type");
    let dialect: String = r.get("dialect");
    Ok(Some(Claimed {
        jobid: r.get("jobid"),
        job_type: JobType::parse(&job_type).ok_or_else(|| StoreError::Invalid(format!("batch job type {job_type:?}")))?,
        origin: Origin::parse(&r.get::<String, _>("origin")),
        dialect: if dialect == Dialect::Legacy.as_str() { Dialect::Legacy } else { Dialect::WeCom },
        has_callback: !r.get::<String, _>("callback_url").is_empty(),
        total: r.get("total"),
        done: r.get("done"),
        phase: r.get("phase"),
    }))
}

async fn progress(tx: &mut Transaction<'static, Any>, corpid: &str, seq: i64, done: i64, phase: i64) -> Result<()> {
    sqlx::query("UPDATE batch_jobs SET done = $3, phase = $4 WHERE corpid = $1 AND seq = $2")
        .bind(corpid)
        .bind(seq)
        .bind(done)
        .bind(phase)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends a job with its job-level result and records batch_job_result for its own receiver, or the
/// contacts-sync assistant's when it named none.
async fn finish(tx: &mut Transaction<'static, Any>, corpid: &str, seq: i64, job: &Claimed, result: &ApiError, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE batch_jobs SET done = total, finished = 1, finished_at = $3, errcode = $4, errmsg = $5, claimed_by = '', claimed_until = 0 \
         WHERE corpid = $1 AND seq = $2",
    )
    .bind(corpid)
    .bind(seq)
    .bind(now)
    .bind(result.errcode)
    .bind(result.text.as_ref())
    .execute(&mut **tx)
    .await?;
    let receiver = if job.has_callback { Owner::Job(seq) } else { Owner::ContactSync };
    let items = rules::job_result_items(&job.jobid, job.job_type, result);
    record_addressed(tx, corpid, job.origin, "batch_job_result", &items, receiver, now).await
}

/// A row's outcome: what it did (or tried to) and its errcode.
fn outcome(action: i64, r: std::result::Result<(), ApiError>) -> RowResult {
    let e = r.err().unwrap_or_else(rules::ok);
    RowResult { key: String::new(), action, invitetype: 0, errcode: e.errcode, errmsg: e.text.to_string() }
}

/// An invitation: the refusal known at the call, or what the member is like now.
async fn invite_row(tx: &mut Transaction<'static, Any>, corpid: &str, key: &str, input: &str) -> Result<RowResult> {
    let known = serde_json::from_str::<NewInvite>(input).ok().and_then(|i| i.refused);
    let invited = match known {
        Some((errcode, text)) => Err(ApiError { errcode, text: text.into() }),
        None => match load_member(tx, corpid, key, "").await? {
            None => Err(Errcode::UseridNotFound.into()),
            Some(m) => invite_type(&m).map_err(ApiError::from),
        },
    };
    Ok(match invited {
        Ok(invitetype) => RowResult { invitetype, ..outcome(0, Ok(())) },
        Err(e) => outcome(0, Err(e)),
    })
}
