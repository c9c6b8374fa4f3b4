-- Asynchronous batch jobs (wecom-api.md §7): batch/syncuser, replaceuser, replaceparty and the
-- 企业号's batch/inviteuser. seq numbers a corp's jobs in start order (the last 5 keep their
-- results, older ones are `cleared`); the job's receiver of batch_job_result is `job:<seq>`, its
-- settings here ('' when the job named none). A job is processed in steps of rows: a step and the
-- job's `done` (rows processed) and `phase` (0 rows, 1 deletions, 2 emptied departments) commit
-- together, so a restart repeats no row and loses none. `claimed_by`/`claimed_until` (real time,
-- ms) is the lease of the instance working on it. At most one unfinished job per corp (302008).
CREATE TABLE batch_jobs (
    corpid          TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    jobid           TEXT NOT NULL,
    job_type        TEXT NOT NULL,
    origin          TEXT NOT NULL,
    dialect         TEXT NOT NULL,
    callback_url    TEXT NOT NULL,
    callback_token  TEXT NOT NULL,
    callback_aeskey TEXT NOT NULL,
    total           BIGINT NOT NULL,
    done            BIGINT NOT NULL,
    phase           BIGINT NOT NULL,
    finished        BIGINT NOT NULL,
    errcode         BIGINT NOT NULL,
    errmsg          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    finished_at     BIGINT NOT NULL,
    claimed_by      TEXT NOT NULL,
    claimed_until   BIGINT NOT NULL,
    cleared         BIGINT NOT NULL,
    PRIMARY KEY (corpid, seq)
);
CREATE UNIQUE INDEX batch_jobs_by_jobid ON batch_jobs (jobid);
CREATE UNIQUE INDEX batch_jobs_running ON batch_jobs (corpid) WHERE finished = 0;

-- A job's rows in file order (n from 1): `key` the lowercased userid or the partyid, `label` what
-- getresult names it by (the userid as written), `input` the row as the model reads it (JSON),
-- then its outcome once `done`.
CREATE TABLE batch_rows (
    corpid     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    key        TEXT NOT NULL,
    label      TEXT NOT NULL,
    input      TEXT NOT NULL,
    done       BIGINT NOT NULL,
    action     BIGINT NOT NULL,
    invitetype BIGINT NOT NULL,
    errcode    BIGINT NOT NULL,
    errmsg     TEXT NOT NULL,
    PRIMARY KEY (corpid, seq, n)
);
CREATE INDEX batch_rows_by_key ON batch_rows (corpid, seq, key);

-- Departments a replace_party could not delete because something was still in them: a later
-- member import deletes them once they are empty.
CREATE TABLE batch_doomed_departments (
    corpid        TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    PRIMARY KEY (corpid, department_id)
);

-- The one receiver an event is for (batch_job_result: 'job:<seq>' or 'contact_sync'); '' for
-- events routed by what they are.
ALTER TABLE events ADD COLUMN receiver TEXT NOT NULL DEFAULT '';
