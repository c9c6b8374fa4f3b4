//! Temporary media, permanent pictures, the files of permanent material (`material.rs` has the
//! rest) and upload_by_url jobs. Files are kept in the database in chunks of [`CHUNK_BYTES`],
//! written as they arrive and read one chunk at a time, so neither an upload nor a download holds
//! a whole file in memory, and every instance on one PostgreSQL serves the same files. Rules are
//! `wecom_model::media`'s.

use crate::callback::record_push;
use crate::tag::Rule;
use crate::{Origin, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;
use wecom_model::callback::job_finish_push;
use wecom_model::credential::Scope;
use wecom_model::material::MaterialType;
use wecom_model::media::{new_image_id, ByUrl, Format, JobStatus, MediaType, MEDIA_TTL};

/// Bytes per stored chunk: big enough that a 20 MB file is 80 rows, small enough that a
/// download holds little at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// How long an upload may take before the sweep takes its unfinished chunks for a crash's leftovers.
const UNFINISHED_GRACE: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// media/upload: a media_id usable for 3 days.
    Temporary,
    /// media/uploadimg and app logos: a permanent picture behind a URL.
    Image,
    /// material/add_material: a 企业号 app's permanent material, by media_id.
    Material { agentid: i64 },
}

impl MediaKind {
    fn as_str(self) -> &'static str {
        match self {
            MediaKind::Temporary => "temporary",
            MediaKind::Image => "image",
            MediaKind::Material { .. } => "material",
        }
    }

    fn agentid(self) -> i64 {
        match self {
            MediaKind::Material { agentid } => agentid,
            MediaKind::Temporary | MediaKind::Image => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRow {
    pub media_id: String,
    pub corpid: String,
    /// The app a permanent material belongs to; 0 for other media.
    pub agentid: i64,
    pub media_type: String,
    pub filename: String,
    pub content_type: String,
    pub format: Format,
    pub size: u64,
    pub created_at: i64,
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Jpeg => "jpeg",
        Format::Png => "png",
        Format::Amr => "amr",
        Format::Mp4 => "mp4",
        Format::Any => "any",
    }
}

fn format_of(s: &str) -> Format {
    match s {
        "jpeg" => Format::Jpeg,
        "png" => Format::Png,
        "amr" => Format::Amr,
        "mp4" => Format::Mp4,
        _ => Format::Any,
    }
}

pub(crate) const MEDIA_COLUMNS: &str =
    "SELECT media_id, corpid, agentid, media_type, filename, content_type, format, size, created_at FROM media";

pub(crate) fn media_of(r: &AnyRow) -> MediaRow {
    MediaRow {
        media_id: r.get("media_id"),
        corpid: r.get("corpid"),
        agentid: r.get("agentid"),
        media_type: r.get("media_type"),
        filename: r.get("filename"),
        content_type: r.get("content_type"),
        format: format_of(&r.get::<String, _>("format")),
        size: r.get::<i64, _>("size") as u64,
        created_at: r.get("created_at"),
    }
}

/// An upload being written. Chunks go to the store as they fill; the file becomes visible only
/// through [`MediaSink::commit`]. Dropped without a commit, it deletes what it wrote.
pub struct MediaSink {
    store: Store,
    corpid: String,
    kind: MediaKind,
    media_type: MediaType,
    media_id: String,
    buf: Vec<u8>,
    seq: i64,
    size: u64,
    committed: bool,
}

impl MediaSink {
    pub fn media_id(&self) -> &str {
        &self.media_id
    }

    pub async fn write(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let take = (CHUNK_BYTES - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == CHUNK_BYTES {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        sqlx::query("INSERT INTO media_chunks (media_id, seq, data) VALUES ($1, $2, $3)")
            .bind(&self.media_id)
            .bind(self.seq)
            .bind(&self.buf[..])
            .execute(&self.store.write)
            .await?;
        self.seq += 1;
        self.size += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is left and makes the file visible, as `format` with `content_type`. A permanent
    /// material becomes visible only while its app has room for one more of its type (45028);
    /// refused, the sink is dropped and removes what it wrote.
    pub async fn commit(mut self, format: Format, content_type: &str) -> Result<Rule<MediaRow>> {
        self.flush().await?;
        let mut tx = self.store.write.begin().await?;
        if let MediaKind::Material { agentid } = self.kind {
            let material_type = MaterialType::from(self.media_type);
            if let Err(e) = self.store.room(&mut tx, &self.corpid, agentid, material_type).await? {
                return Ok(Err(e));
            }
        }
        sqlx::query("UPDATE media SET complete = 1, format = $2, content_type = $3, size = $4 WHERE media_id = $1")
            .bind(&self.media_id)
            .bind(format_name(format))
            .bind(content_type)
            .bind(self.size as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.committed = true;
        let sql = format!("{MEDIA_COLUMNS} WHERE media_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&self.media_id).fetch_one(&self.store.write).await?;
        Ok(Ok(media_of(&row)))
    }
}

impl Drop for MediaSink {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let (store, media_id) = (self.store.clone(), std::mem::take(&mut self.media_id));
        // Dropped inside the runtime (a failed or abandoned upload); the sweep covers the rest.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.delete_media(&media_id).await {
                    tracing::warn!("cannot remove the unfinished upload {media_id}: {e}");
                }
            });
        }
    }
}

/// An upload_by_url job a worker runs: what it fetches (`None`: not kept) and for which app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaJobRun {
    pub jobid: String,
    pub corpid: String,
    pub agentid: i64,
    pub job: Option<ByUrl>,
    /// Runs started, this one included.
    pub attempts: i64,
}

/// An upload_by_url job as get_upload_by_url_result reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaJobRow {
    pub jobid: String,
    pub status: JobStatus,
    pub media_id: String,
    pub errcode: i64,
    pub errmsg: String,
    pub created_at: i64,
}

impl Store {
    /// Starts writing a file named `media_id` for `corpid`, invisible until committed.
    pub async fn media_sink(
        &self,
        corpid: &str,
        media_id: &str,
        kind: MediaKind,
        media_type: MediaType,
        filename: &str,
        now: i64,
    ) -> Result<MediaSink> {
        sqlx::query(
            "INSERT INTO media (media_id, corpid, agentid, kind, media_type, format, filename, content_type, size, created_at, complete) \
             VALUES ($1, $2, $3, $4, $5, '', $6, '', 0, $7, 0)",
        )
        .bind(media_id)
        .bind(corpid)
        .bind(kind.agentid())
        .bind(kind.as_str())
        .bind(media_type.as_str())
        .bind(filename)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(MediaSink {
            store: self.clone(),
            corpid: corpid.into(),
            kind,
            media_type,
            media_id: media_id.into(),
            buf: Vec::with_capacity(CHUNK_BYTES),
            seq: 0,
            size: 0,
            committed: false,
        })
    }

    pub(crate) async fn delete_media(&self, media_id: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM media_chunks WHERE media_id = $1").bind(media_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM media WHERE media_id = $1").bind(media_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A temporary media of the corp, unless unknown, unfinished or past its 3 days.
    pub async fn media(&self, corpid: &str, media_id: &str, now: i64) -> Result<Option<MediaRow>> {
        let sql =
            format!("{MEDIA_COLUMNS} WHERE media_id = $1 AND corpid = $2 AND kind = 'temporary' AND complete = 1 AND created_at > $3");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(media_id).bind(corpid).bind(now - MEDIA_TTL).fetch_optional(&self.read).await?;
        Ok(row.as_ref().map(media_of))
    }

    /// A permanent picture, by the id in its URL.
    pub async fn image(&self, image_id: &str) -> Result<Option<MediaRow>> {
        let sql = format!("{MEDIA_COLUMNS} WHERE media_id = $1 AND kind = 'image' AND complete = 1");
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(image_id).fetch_optional(&self.read).await?.as_ref().map(media_of))
    }

    /// Chunk `seq` of a file's bytes.
    /// A file's bytes, whole (a batch job's CSV: 20 MB at most).
    pub async fn media_content(&self, media: &MediaRow) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(media.size as usize);
        let mut seq = 0;
        while (out.len() as u64) < media.size {
            let chunk = self
                .media_chunk(&media.media_id, seq)
                .await?
                .ok_or_else(|| crate::StoreError::NotFound(format!("media {} lost chunk {seq}", media.media_id)))?;
            out.extend_from_slice(&chunk);
            seq += 1;
        }
        Ok(out)
    }

    pub async fn media_chunk(&self, media_id: &str, seq: i64) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT data FROM media_chunks WHERE media_id = $1 AND seq = $2")
            .bind(media_id)
            .bind(seq)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Makes a temporary picture permanent (an app's logo outlives the media's 3 days): a copy
    /// under a new image id, copied inside the database. Returns the image id.
    pub async fn keep_image(&self, media: &MediaRow, now: i64) -> Result<String> {
        let image_id = new_image_id();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO media (media_id, corpid, kind, media_type, format, filename, content_type, size, created_at, complete) \
             SELECT $2, corpid, 'image', media_type, format, filename, content_type, size, $3, 1 FROM media WHERE media_id = $1",
        )
        .bind(&media.media_id)
        .bind(&image_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO media_chunks (media_id, seq, data) SELECT $2, seq, data FROM media_chunks WHERE media_id = $1")
            .bind(&media.media_id)
            .bind(&image_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(image_id)
    }

    /// Removes temporary media past their 3 days and uploads left unfinished by a crash.
    pub async fn sweep_media(&self, now: i64) -> Result<u64> {
        let gone: Vec<String> = sqlx::query(
            "SELECT media_id FROM media WHERE (kind = 'temporary' AND created_at <= $1) OR (complete = 0 AND created_at <= $2)",
        )
        .bind(now - MEDIA_TTL)
        .bind(now - UNFINISHED_GRACE)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        for id in &gone {
            self.delete_media(id).await?;
        }
        Ok(gone.len() as u64)
    }

    /// Starts an upload_by_url job for the app `agentid` (0: another credential), held by
    /// `instance` until `lease_until` (ms), its first run.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_media_job(
        &self,
        corpid: &str,
        jobid: &str,
        agentid: i64,
        job: &ByUrl,
        instance: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO media_jobs (jobid, corpid, status, media_id, errcode, errmsg, created_at, agentid, media_type, filename, url, md5, \
             claimed_by, lease_until, attempts) VALUES ($1, $2, $3, '', 0, '', $4, $5, $6, $7, $8, $9, $10, $11, 1)",
        )
        .bind(jobid)
        .bind(corpid)
        .bind(JobStatus::Processing as i64)
        .bind(now)
        .bind(agentid)
        .bind(job.media_type.as_str())
        .bind(&job.filename)
        .bind(&job.url)
        .bind(&job.md5)
        .bind(instance)
        .bind(lease_until)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Extends the lease `instance` holds on a running job; false when it holds it no more.
    pub async fn renew_media_job(&self, jobid: &str, instance: &str, lease_until: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE media_jobs SET lease_until = $3 WHERE jobid = $1 AND claimed_by = $2 AND status = 1")
            .bind(jobid)
            .bind(instance)
            .bind(lease_until)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes over the running jobs whose lease ran out (their instance stopped), counting a run.
    pub async fn claim_media_jobs(&self, instance: &str, now_ms: i64, lease_ms: i64) -> Result<Vec<MediaJobRun>> {
        let rows = sqlx::query(
            "UPDATE media_jobs SET claimed_by = $1, lease_until = $2, attempts = attempts + 1 WHERE status = 1 AND lease_until < $3 \
             RETURNING jobid, corpid, agentid, media_type, filename, url, md5, attempts",
        )
        .bind(instance)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .fetch_all(&self.write)
        .await?;
        Ok(rows
            .iter()
            .map(|r| MediaJobRun {
                jobid: r.get("jobid"),
                corpid: r.get("corpid"),
                agentid: r.get("agentid"),
                // Jobs started before wecomd kept their request cannot be run again.
                job: MediaType::parse(Some(&r.get::<String, _>("media_type"))).ok().map(|media_type| ByUrl {
                    media_type,
                    filename: r.get("filename"),
                    url: r.get("url"),
                    md5: r.get("md5"),
                }),
                attempts: r.get("attempts"),
            })
            .collect())
    }

    /// Records a job's outcome, the media it made or the errcode it failed with, if `instance`
    /// still runs it; in the same transaction, the upload_media_job_finish event for the app whose
    /// token started it. Returns whether this run ended the job.
    pub async fn end_media_job(
        &self,
        jobid: &str,
        instance: &str,
        outcome: std::result::Result<&str, (i64, &str)>,
        now: i64,
    ) -> Result<bool> {
        let (status, media_id, errcode, errmsg) = match outcome {
            Ok(media_id) => (JobStatus::Finished, media_id, 0, ""),
            Err((code, msg)) => (JobStatus::Failed, "", code, msg),
        };
        let mut tx = self.write.begin().await?;
        let ended = sqlx::query(
            "UPDATE media_jobs SET status = $2, media_id = $3, errcode = $4, errmsg = $5, claimed_by = '', lease_until = 0 \
             WHERE jobid = $1 AND status = 1 AND claimed_by = $6 RETURNING corpid, agentid",
        )
        .bind(jobid)
        .bind(status as i64)
        .bind(media_id)
        .bind(errcode)
        .bind(errmsg)
        .bind(instance)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = ended else { return Ok(false) };
        let (corpid, agentid): (String, i64) = (row.get(0), row.get(1));
        if agentid > 0 {
            let push = job_finish_push(agentid, jobid);
            record_push(&mut tx, &corpid, Origin::Caller(Scope::App { agentid }), &push, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn media_job(&self, corpid: &str, jobid: &str) -> Result<Option<MediaJobRow>> {
        let row =
            sqlx::query("SELECT jobid, status, media_id, errcode, errmsg, created_at FROM media_jobs WHERE corpid = $1 AND jobid = $2")
                .bind(corpid)
                .bind(jobid)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|r| MediaJobRow {
            jobid: r.get("jobid"),
            status: match r.get::<i64, _>("status") {
                2 => JobStatus::Finished,
                3 => JobStatus::Failed,
                _ => JobStatus::Processing,
            },
            media_id: r.get("media_id"),
            errcode: r.get("errcode"),
            errmsg: r.get("errmsg"),
            created_at: r.get("created_at"),
        }))
    }
}
