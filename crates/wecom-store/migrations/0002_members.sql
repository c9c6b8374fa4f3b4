-- Members: a mobile, an email and a 企业号 weixinid each belong to one member of a corp (60104,
-- 60106, 60108), also when two requests race; empty means "none" and is not unique.
CREATE UNIQUE INDEX members_mobile_unique ON members (corpid, mobile) WHERE mobile <> '';
CREATE UNIQUE INDEX members_email_unique ON members (corpid, email) WHERE email <> '';
CREATE UNIQUE INDEX members_weixinid_unique ON members (corpid, weixinid) WHERE weixinid <> '';
-- The place of a department in the member's `department` list, as the caller gave it.
ALTER TABLE member_departments ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
-- list_id pages through (userid_key, department_id).
CREATE INDEX member_departments_by_member ON member_departments (corpid, userid_key, department_id);
