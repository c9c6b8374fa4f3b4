-- The legacy chat service (企业会话服务) and group robots (群机器人).

-- userlist is a JSON array of userids in their stored case, in the order they joined (< 1000).
CREATE TABLE chats (
    corpid     TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    chatid     TEXT NOT NULL,
    name       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    userlist   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (corpid, chatid)
);

-- chat/setmute: members whose new-message notices are muted.
CREATE TABLE chat_mutes (
    corpid     TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    userid_key TEXT NOT NULL,
    PRIMARY KEY (corpid, userid_key)
);

-- Every message in a conversation: receiver is ('group', chatid) or ('single', userid); origin is
-- 'api' (chat/send), 'member' (a member, through the control API) or 'robot' (sender = its key).
-- seq numbers a corp's messages in commit order (corps.chat_message_seq).
CREATE TABLE chat_messages (
    corpid        TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    receiver_type TEXT NOT NULL,
    receiver_id   TEXT NOT NULL,
    origin        TEXT NOT NULL,
    sender        TEXT NOT NULL,
    msgid         TEXT NOT NULL,
    msgtype       TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (corpid, seq)
);
CREATE INDEX chat_messages_by_receiver ON chat_messages (corpid, receiver_type, receiver_id, seq);
CREATE INDEX chat_messages_by_sender ON chat_messages (sender, origin, created_at);
ALTER TABLE corps ADD COLUMN chat_message_seq BIGINT NOT NULL DEFAULT 0;

-- A robot's key is its whole credential, unique across corps.
CREATE TABLE robots (
    robot_key  TEXT PRIMARY KEY,
    corpid     TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    chatid     TEXT NOT NULL,
    name       TEXT NOT NULL,
    enabled    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Files and voices uploaded by a robot, usable by that robot only, for 3 days. The bytes are not
-- kept: what a message shows of them is the name and size.
CREATE TABLE robot_media (
    media_id   TEXT PRIMARY KEY,
    robot_key  TEXT NOT NULL REFERENCES robots (robot_key) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    filename   TEXT NOT NULL,
    length     BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Chat packages in the outbox: package is the whole package as JSON, package_id what the
-- receiver acknowledges it with.
ALTER TABLE events ADD COLUMN package_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN package TEXT NOT NULL DEFAULT '';
CREATE INDEX events_by_package ON events (corpid, package_id) WHERE package_id <> '';
