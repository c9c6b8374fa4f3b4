-- Every response_code of a template card (wecom-api.md §9.3): the one message/send answers
-- (userid_key '') and the new one each template_card_event push carries (userid_key: the member
-- who clicked). Each serves one message/update_template_card within 72 hours of created_at.
CREATE TABLE response_codes (
    corpid     TEXT NOT NULL,
    code       TEXT NOT NULL,
    -- The message whose card the code updates.
    seq        BIGINT NOT NULL,
    userid_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- 1 once an update spent it.
    spent      BIGINT NOT NULL,
    PRIMARY KEY (corpid, code)
);

-- message/send's codes move here from their messages.
INSERT INTO response_codes (corpid, code, seq, userid_key, created_at, spent)
    SELECT corpid, response_code, seq, '', created_at, response_code_used FROM messages WHERE response_code <> '';
DROP INDEX messages_by_response_code;
ALTER TABLE messages DROP COLUMN response_code;
ALTER TABLE messages DROP COLUMN response_code_used;
