-- Member fields of WeCom's later docs (wecom-api.md §4.1). userid_generated: the platform chose
-- the userid (the member joined by itself), so user/update may rename it once (new_userid).
-- quit: the member left the corp (status 5). biz_mail_alias is a JSON list; external_profile is
-- the object as the API takes it, or ''.
ALTER TABLE members ADD COLUMN userid_generated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN quit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN biz_mail TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN biz_mail_alias TEXT NOT NULL DEFAULT '[]';
ALTER TABLE members ADD COLUMN external_position TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN external_profile TEXT NOT NULL DEFAULT '';
-- A corp mailbox belongs to one member (60145), also when two requests race.
CREATE UNIQUE INDEX members_biz_mail_unique ON members (corpid, biz_mail) WHERE biz_mail <> '';
