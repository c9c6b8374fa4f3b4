-- Messages apps send (message/send, appchat/send) and what each member received.
-- No foreign keys: a message to 100,000 members writes 100,000 recipient rows, which should cost
-- only their own index; reset deletes these tables by name.

-- The last message's number in the corp: taking the next one locks the corp's row, which orders
-- messages (and so every inbox) the way they were sent.
ALTER TABLE corps ADD COLUMN message_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE messages (
    corpid        TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    msgid         TEXT NOT NULL,
    -- Owner key of the credential that sent it: 'app:<agentid>' or 'group:<groupid>'.
    sender        TEXT NOT NULL,
    agentid       BIGINT NOT NULL,
    -- The appchat it went to, or '' for an app message.
    chatid        TEXT NOT NULL,
    msgtype       TEXT NOT NULL,
    -- The payload object as members see it (JSON).
    content       TEXT NOT NULL,
    safe          BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- 0 until message/recall.
    recalled_at   BIGINT NOT NULL,
    -- enable_duplicate_check: the key of the request, '' when the check was off.
    duplicate_key TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    -- template cards that can be updated: single use within 72 h; '' otherwise.
    response_code TEXT NOT NULL,
    response_code_used BIGINT NOT NULL,
    recipients    BIGINT NOT NULL,
    PRIMARY KEY (corpid, seq),
    UNIQUE (corpid, msgid)
);
CREATE INDEX messages_by_duplicate ON messages (corpid, agentid, duplicate_key, created_at) WHERE duplicate_key <> '';
CREATE INDEX messages_by_chat ON messages (corpid, chatid, seq) WHERE chatid <> '';
CREATE INDEX messages_by_response_code ON messages (corpid, response_code) WHERE response_code <> '';
CREATE INDEX messages_by_task ON messages (corpid, agentid, task_id) WHERE task_id <> '';

-- One row per member a message reached. card: the template card as this member now sees it after
-- update_template_card (JSON), '' while it is as sent.
CREATE TABLE message_recipients (
    corpid     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    userid_key TEXT NOT NULL,
    card       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (corpid, seq, userid_key)
);
CREATE INDEX message_recipients_by_member ON message_recipients (corpid, userid_key, seq);

-- appchat: chats belong to the self-built app that created them.
CREATE TABLE appchats (
    corpid     TEXT NOT NULL,
    chatid     TEXT NOT NULL,
    name       TEXT NOT NULL,
    -- The owner's userid as stored.
    owner      TEXT NOT NULL,
    agentid    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (corpid, chatid)
);
CREATE TABLE appchat_members (
    corpid     TEXT NOT NULL,
    chatid     TEXT NOT NULL,
    userid_key TEXT NOT NULL,
    position   BIGINT NOT NULL,
    PRIMARY KEY (corpid, chatid, userid_key)
);
