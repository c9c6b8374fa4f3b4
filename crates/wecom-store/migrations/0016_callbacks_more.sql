-- media/upload_by_url jobs keep what they fetch, so that another instance (or this one after a
-- restart) can take a job over, and the app whose token started it (0: none), which gets the
-- upload_media_job_finish event. A running job is held under a lease (milliseconds of real time)
-- that its worker renews; attempts counts the runs started.
ALTER TABLE media_jobs ADD COLUMN agentid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE media_jobs ADD COLUMN media_type TEXT NOT NULL DEFAULT '';
ALTER TABLE media_jobs ADD COLUMN filename TEXT NOT NULL DEFAULT '';
ALTER TABLE media_jobs ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE media_jobs ADD COLUMN md5 TEXT NOT NULL DEFAULT '';
ALTER TABLE media_jobs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE media_jobs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE media_jobs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX media_jobs_running ON media_jobs (status, lease_until);
