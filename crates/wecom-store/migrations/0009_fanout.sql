-- Asynchronous @all and recipient throttles.

-- An @all message whose recipient rows are still being written. The send commits the message and
-- this row (the sender's ranges as JSON) and answers; the rows are then written in batches in
-- member-key order. done_through is the last member key written: a batch and its done_through
-- commit together, so a crash repeats no batch and loses none. The row is deleted with the last
-- batch. claimed_until (real time, ms) tells other sweepers that someone is working on it.
CREATE TABLE fanouts (
    corpid        TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    agentid       BIGINT NOT NULL,
    ranges        TEXT NOT NULL,
    sent_at       BIGINT NOT NULL,
    done_through  TEXT NOT NULL,
    claimed_until BIGINT NOT NULL,
    PRIMARY KEY (corpid, seq)
);
CREATE INDEX fanouts_by_agent ON fanouts (corpid, agentid, seq);

-- Recipient throttles (wecom-api.md §1.8) count what a member received through one throttle key
-- ('app:<agentid>' or 'appchat') since a window's start. Rows written before this migration have
-- '' and are never counted.
ALTER TABLE message_recipients ADD COLUMN throttle TEXT NOT NULL DEFAULT '';
ALTER TABLE message_recipients ADD COLUMN sent_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX message_recipients_by_throttle ON message_recipients (corpid, userid_key, throttle, sent_at);
-- Messages per throttle key in a window bound every member's count: under the limit, nobody is
-- checked one by one.
ALTER TABLE messages ADD COLUMN throttle TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_by_throttle ON messages (corpid, throttle, created_at);
