-- The 企业号's permanent material (永久素材). Files are kept as media are (chunks in media_chunks),
-- as kind 'material' of the app they belong to; mpnews are article lists. Neither expires.

-- agentid: the app a 'material' belongs to; 0 for temporary media and pictures.
ALTER TABLE media ADD COLUMN agentid BIGINT NOT NULL DEFAULT 0;
CREATE INDEX media_materials ON media (corpid, agentid, kind, media_type, created_at);

-- articles: the JSON list material/get shows. update_time: the last add_mpnews or update_mpnews.
CREATE TABLE material_mpnews (
    media_id    TEXT PRIMARY KEY,
    corpid      TEXT NOT NULL REFERENCES corps (corpid) ON DELETE CASCADE,
    agentid     BIGINT NOT NULL,
    articles    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    update_time BIGINT NOT NULL
);
CREATE INDEX material_mpnews_by_app ON material_mpnews (corpid, agentid, created_at);
