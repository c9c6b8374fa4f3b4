-- Temporary media (media/upload, 3 days), pictures media/uploadimg made permanent (served by
-- wecomd at /media/img/<image_id>) and upload_by_url jobs. The bytes live in the database in
-- chunks, so several instances on one PostgreSQL serve the same files.

-- kind: 'temporary' (media_id usable for 3 days) or 'image' (permanent, image_id in the URL).
-- complete is 0 while the chunks are being written: such a row is invisible and is removed if
-- the upload fails (or, after a crash, by the next start).
CREATE TABLE media (
    media_id     TEXT PRIMARY KEY,
    corpid       TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    format       TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    complete     BIGINT NOT NULL
);
CREATE INDEX media_by_corp ON media (corpid, created_at);

-- seq numbers a file's chunks from 0; every chunk but the last is exactly the chunk size.
CREATE TABLE media_chunks (
    media_id TEXT NOT NULL REFERENCES media (media_id) ON DELETE CASCADE,
    seq      BIGINT NOT NULL,
    data     BYTEA NOT NULL,
    PRIMARY KEY (media_id, seq)
);

-- media/upload_by_url: status 1 processing, 2 finished (media_id), 3 failed (errcode, errmsg).
CREATE TABLE media_jobs (
    jobid      TEXT PRIMARY KEY,
    corpid     TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    status     BIGINT NOT NULL,
    media_id   TEXT NOT NULL,
    errcode    BIGINT NOT NULL,
    errmsg     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
