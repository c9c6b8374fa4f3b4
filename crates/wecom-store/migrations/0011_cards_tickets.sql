-- JS-SDK tickets (wecom-api.md §12.1, legacy-api.md §9): one live ticket per corp, kind and owner
-- ('' for the corp's, 'app:<agentid>' for agent_config, 'group:<groupid>' for the group ticket).
CREATE TABLE tickets (
    corpid     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    ticket     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (corpid, kind, owner)
);

-- 卡券 codes members received (legacy card/code/get, card/code/consume); consumed_at 0 until
-- card/code/consume. openid is the member's corp-level openid, as card/code/get answers it.
CREATE TABLE card_codes (
    corpid      TEXT NOT NULL,
    code        TEXT NOT NULL,
    card_id     TEXT NOT NULL,
    userid_key  TEXT NOT NULL,
    openid      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    consumed_at BIGINT NOT NULL,
    PRIMARY KEY (corpid, code)
);

-- The 企业号 demanded callback mode (回调模式) of an app for agent/set and menu/*; on unless a
-- seed or the control API turns it off.
ALTER TABLE apps ADD COLUMN callback_mode BIGINT NOT NULL DEFAULT 1;
