-- One schema for SQLite and PostgreSQL: only types both read alike (TEXT, BIGINT), times in unix
-- seconds of wecomd's clock, flags as 0/1. Row ids are made by wecomd, not by the database.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE corps (
    corpid     TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- The last event's number: taking the next one locks the corp's row, which orders its events.
    event_seq  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE apps (
    corpid        TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    agentid       BIGINT NOT NULL,
    -- The app's own appid (legacy convert_to_openid with agentid answers it, for red packets).
    appid         TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    allow_users   TEXT NOT NULL,
    allow_parties TEXT NOT NULL,
    allow_tags    TEXT NOT NULL,
    contact_edit  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (corpid, agentid)
);

-- One row per secret holder: owner is 'app:<agentid>', 'contact_sync' or 'group:<groupid>'.
CREATE TABLE credentials (
    id          BIGINT PRIMARY KEY,
    corpid      TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    owner       TEXT NOT NULL,
    secret      TEXT NOT NULL,
    trusted_ips TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (corpid, owner),
    UNIQUE (corpid, secret)
);

-- Tokens stay after they expire so that an expired one answers 42001, not 40014.
CREATE TABLE tokens (
    token         TEXT PRIMARY KEY,
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked       BIGINT NOT NULL
);
CREATE INDEX tokens_by_credential ON tokens (credential_id, expires_at);

-- Legacy management groups (管理组) and their rights.
CREATE TABLE mgmt_groups (
    corpid  TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    groupid BIGINT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (corpid, groupid)
);
CREATE TABLE group_app_rights (
    corpid    TEXT NOT NULL,
    groupid   BIGINT NOT NULL,
    agentid   BIGINT NOT NULL,
    app_right TEXT NOT NULL,
    PRIMARY KEY (corpid, groupid, agentid),
    FOREIGN KEY (corpid, groupid) REFERENCES mgmt_groups (corpid, groupid) ON DELETE CASCADE
);
CREATE TABLE group_department_rights (
    corpid        TEXT NOT NULL,
    groupid       BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    contact_right TEXT NOT NULL,
    PRIMARY KEY (corpid, groupid, department_id),
    FOREIGN KEY (corpid, groupid) REFERENCES mgmt_groups (corpid, groupid) ON DELETE CASCADE
);
CREATE TABLE group_tags (
    corpid  TEXT NOT NULL,
    groupid BIGINT NOT NULL,
    tagid   BIGINT NOT NULL,
    PRIMARY KEY (corpid, groupid, tagid),
    FOREIGN KEY (corpid, groupid) REFERENCES mgmt_groups (corpid, groupid) ON DELETE CASCADE
);

-- sibling_rank is the neutral order among siblings (smaller shows first); each dialect renders
-- its own 'order' numbers from it.
CREATE TABLE departments (
    corpid       TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    id           BIGINT NOT NULL,
    name         TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    parentid     BIGINT NOT NULL,
    sibling_rank BIGINT NOT NULL,
    PRIMARY KEY (corpid, id)
);

-- userid_key is the lowercased userid: userids are unique ignoring case.
CREATE TABLE members (
    corpid       TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    userid_key   TEXT NOT NULL,
    userid       TEXT NOT NULL,
    name         TEXT NOT NULL,
    alias        TEXT NOT NULL,
    mobile       TEXT NOT NULL,
    email        TEXT NOT NULL,
    position     TEXT NOT NULL,
    gender       TEXT NOT NULL,
    english_name TEXT NOT NULL,
    telephone    TEXT NOT NULL,
    weixinid     TEXT NOT NULL,
    active       BIGINT NOT NULL,
    enable       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    direct_leader   TEXT NOT NULL DEFAULT '[]',
    main_department BIGINT NOT NULL DEFAULT 0,
    -- {"attrs":[…]} as the API takes it, or ''.
    extattr         TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT '',
    avatar_mediaid  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (corpid, userid_key)
);
CREATE INDEX members_by_mobile ON members (corpid, mobile);
CREATE INDEX members_by_email ON members (corpid, email);
CREATE TABLE member_departments (
    corpid        TEXT NOT NULL,
    userid_key    TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    position      BIGINT NOT NULL,
    is_leader     BIGINT NOT NULL,
    PRIMARY KEY (corpid, userid_key, department_id),
    FOREIGN KEY (corpid, userid_key) REFERENCES members (corpid, userid_key) ON DELETE CASCADE
);
CREATE INDEX member_departments_by_department ON member_departments (corpid, department_id);

-- owner is 'app:<agentid>' (WeCom) or 'group:<groupid>' (legacy); locked matters for groups.
CREATE TABLE tags (
    corpid  TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    tagid   BIGINT NOT NULL,
    tagname TEXT NOT NULL,
    owner   TEXT NOT NULL,
    locked  BIGINT NOT NULL,
    PRIMARY KEY (corpid, tagid)
);
CREATE TABLE tag_users (
    corpid     TEXT NOT NULL,
    tagid      BIGINT NOT NULL,
    userid_key TEXT NOT NULL,
    PRIMARY KEY (corpid, tagid, userid_key),
    FOREIGN KEY (corpid, tagid) REFERENCES tags (corpid, tagid) ON DELETE CASCADE
);
CREATE TABLE tag_parties (
    corpid        TEXT NOT NULL,
    tagid         BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    PRIMARY KEY (corpid, tagid, department_id),
    FOREIGN KEY (corpid, tagid) REFERENCES tags (corpid, tagid) ON DELETE CASCADE
);

-- openids handed out by convert_to_openid: per corp (agentid 0) or, legacy, per app.
CREATE TABLE openids (
    corpid     TEXT NOT NULL,
    openid     TEXT NOT NULL,
    userid_key TEXT NOT NULL,
    agentid    BIGINT NOT NULL,
    PRIMARY KEY (corpid, openid),
    UNIQUE (corpid, userid_key, agentid),
    FOREIGN KEY (corpid, userid_key) REFERENCES members (corpid, userid_key) ON DELETE CASCADE
);

-- The outbox: every change that the platform would push, written in the transaction that makes
-- the change. origin is the owner key of the credential that made it (its own changes are not
-- echoed back to the contacts-sync assistant); items are the event's XML elements, in order.
CREATE TABLE events (
    corpid      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    origin      TEXT NOT NULL,
    event       TEXT NOT NULL,
    change_type TEXT NOT NULL,
    items       TEXT NOT NULL,
    PRIMARY KEY (corpid, seq)
);
