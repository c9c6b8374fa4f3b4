-- Callback receivers (wecom-api.md §10.1): one per app, the contacts-sync assistant and the legacy
-- chat service; owner is 'app:<agentid>', 'contact_sync' or 'chat'. Events numbered up to
-- from_seq happened before the receiver was saved and are not pushed to it.
CREATE TABLE callbacks (
    corpid         TEXT NOT NULL,
    owner          TEXT NOT NULL,
    url            TEXT NOT NULL,
    token          TEXT NOT NULL,
    encodingaeskey TEXT NOT NULL,
    from_seq       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (corpid, owner)
);

-- The last event the delivery worker has routed to receivers (turned into deliveries).
ALTER TABLE corps ADD COLUMN routed_seq BIGINT NOT NULL DEFAULT 0;

-- A member's message or event in one app (JSON of callback::MemberPush), '' for other events.
ALTER TABLE events ADD COLUMN member_push TEXT NOT NULL DEFAULT '';

-- One push of one event to one receiver. id is '<corpid>/<seq>/<owner>', the delivery's stable
-- id; timestamp, nonce and xml are fixed when it is routed, so every retry carries the same ones.
-- Times in milliseconds of real time (retries and leases do not follow the emulated clock).
-- state: 'pending', 'delivered' or 'failed' (gave up). A worker holds a pending delivery while
-- claimed_by/lease_until say so; a lease that ran out (a crashed worker) is taken over.
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    corpid      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    owner       TEXT NOT NULL,
    timestamp   BIGINT NOT NULL,
    nonce       TEXT NOT NULL,
    xml         TEXT NOT NULL,
    package_id  TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    first_at    BIGINT NOT NULL,
    next_at     BIGINT NOT NULL,
    claimed_by  TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);
CREATE INDEX deliveries_pending ON deliveries (corpid, owner, seq) WHERE state = 'pending';
CREATE INDEX deliveries_by_corp ON deliveries (corpid, seq);

-- Every attempt: when, how long, the HTTP status (0 when none came back), the error, the body
-- the receiver answered and, for a passive reply, its decrypted XML.
CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    corpid      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    latency_ms  BIGINT NOT NULL,
    status      BIGINT NOT NULL,
    error       TEXT NOT NULL,
    reply       TEXT NOT NULL,
    reply_xml   TEXT NOT NULL,
    instance    TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX delivery_attempts_by_corp ON delivery_attempts (corpid);
