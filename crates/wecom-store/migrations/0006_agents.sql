-- Apps as agent/get shows them (wecom-api.md §3.1, legacy-api.md §2.1): one row read by both
-- dialects. app_type is the 企业号 kind (1 message, 2 homepage); closed is agent/get's `close`.
ALTER TABLE apps ADD COLUMN square_logo_url TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN app_type BIGINT NOT NULL DEFAULT 1;
ALTER TABLE apps ADD COLUMN home_url TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN chat_extension_url TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN redirect_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN report_location_flag BIGINT NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN isreportenter BIGINT NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN isreportuser BIGINT NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN closed BIGINT NOT NULL DEFAULT 0;

-- An app's menu: the `button` list menu/create accepted, as JSON text.
CREATE TABLE menus (
    corpid  TEXT NOT NULL,
    agentid BIGINT NOT NULL,
    button  TEXT NOT NULL,
    PRIMARY KEY (corpid, agentid)
);

-- 企业号 APIs WeCom removed (legacy-api.md §8). kf: the corp's 企业客服 ranges as JSON text.
CREATE TABLE kf (
    corpid   TEXT PRIMARY KEY,
    internal TEXT NOT NULL,
    external TEXT NOT NULL
);
-- Every kf/send, numbered per corp, for the control API to show.
CREATE TABLE kf_messages (
    corpid          TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    kf              TEXT NOT NULL,
    from_kf         BIGINT NOT NULL,
    counterpart_type TEXT NOT NULL,
    counterpart_id  TEXT NOT NULL,
    msgtype         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    PRIMARY KEY (corpid, seq)
);
-- Shakes recorded through the control API; getshakeinfo reads them for 30 minutes.
CREATE TABLE shake_tickets (
    corpid     TEXT NOT NULL,
    ticket     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    shake      TEXT NOT NULL,
    PRIMARY KEY (corpid, ticket)
);
-- 卡券: the card as card/create took it, and its stock.
CREATE TABLE cards (
    corpid     TEXT NOT NULL,
    card_id    TEXT NOT NULL,
    card       TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (corpid, card_id)
);
