//! Temporary media, permanent pictures and upload_by_url jobs. Files are kept in the database in
//! chunks of [`CHUNK_BYTES`], written as they arrive and read one chunk at a time, so neither an
//! upload nor a download holds a whole file in memory, and every instance on one PostgreSQL
//! serves the same files. Rules are `wecom_model::media`'s.

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;
use wecom_model::media::{new_image_id, Format, JobStatus, MediaType, MEDIA_TTL};

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
}

impl MediaKind {
    fn as_str(self) -> &'static str {
        match self {
            MediaKind::Temporary => "temporary",
            MediaKind::Image => "image",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRow {
    pub media_id: String,
    pub corpid: String,
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

const MEDIA_COLUMNS: &str = "SELECT media_id, corpid, media_type, filename, content_type, format, size, created_at FROM media";

fn media_of(r: &AnyRow) -> MediaRow {
    MediaRow {
        media_id: r.get("media_id"),
        corpid: r.get("corpid"),
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

    /// Writes what is left and makes the file visible, as `format` with `content_type`.
    pub async fn commit(mut self, format: Format, content_type: &str) -> Result<MediaRow> {
        self.flush().await?;
        sqlx::query("UPDATE media SET complete = 1, format = $2, content_type = $3, size = $4 WHERE media_id = $1")
            .bind(&self.media_id)
            .bind(format_name(format))
            .bind(content_type)
            .bind(self.size as i64)
            .execute(&self.store.write)
            .await?;
        self.committed = true;
        let sql = format!("{MEDIA_COLUMNS} WHERE media_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&self.media_id).fetch_one(&self.store.write).await?;
        Ok(media_of(&row))
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
            "INSERT INTO media (media_id, corpid, kind, media_type, format, filename, content_type, size, created_at, complete) \
             VALUES ($1, $2, $3, $4, '', $5, '', 0, $6, 0)",
        )
        .bind(media_id)
        .bind(corpid)
        .bind(kind.as_str())
        .bind(media_type.as_str())
        .bind(filename)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(MediaSink {
            store: self.clone(),
            media_id: media_id.into(),
            buf: Vec::with_capacity(CHUNK_BYTES),
            seq: 0,
            size: 0,
            committed: false,
        })
    }

    async fn delete_media(&self, media_id: &str) -> Result<()> {
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

    /// The first of `media_ids` that names no usable temporary media of the corp.
    pub async fn missing_media<'a>(&self, corpid: &str, media_ids: &[&'a str], now: i64) -> Result<Option<&'a str>> {
        for id in media_ids {
            if self.media(corpid, id, now).await?.is_none() {
                return Ok(Some(id));
            }
        }
        Ok(None)
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

    pub async fn create_media_job(&self, corpid: &str, jobid: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO media_jobs (jobid, corpid, status, media_id, errcode, errmsg, created_at) VALUES ($1, $2, $3, '', 0, '', $4)",
        )
        .bind(jobid)
        .bind(corpid)
        .bind(JobStatus::Processing as i64)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Records a job's outcome: the media it made, or the errcode it failed with.
    pub async fn end_media_job(&self, jobid: &str, outcome: std::result::Result<&str, (i64, &str)>) -> Result<()> {
        let (status, media_id, errcode, errmsg) = match outcome {
            Ok(media_id) => (JobStatus::Finished, media_id, 0, ""),
            Err((code, msg)) => (JobStatus::Failed, "", code, msg),
        };
        sqlx::query("UPDATE media_jobs SET status = $2, media_id = $3, errcode = $4, errmsg = $5 WHERE jobid = $1")
            .bind(jobid)
            .bind(status as i64)
            .bind(media_id)
            .bind(errcode)
            .bind(errmsg)
            .execute(&self.write)
            .await?;
        Ok(())
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
