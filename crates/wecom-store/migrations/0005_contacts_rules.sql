-- A tag's users are members of the corp: deleting a member removes it from every tag, also when
-- an addtagusers naming it commits while the delete is waiting (no stray tag_users row).
CREATE TABLE tag_users_new (
    corpid     TEXT NOT NULL,
    tagid      BIGINT NOT NULL,
    userid_key TEXT NOT NULL,
    PRIMARY KEY (corpid, tagid, userid_key),
    FOREIGN KEY (corpid, tagid) REFERENCES tags (corpid, tagid) ON DELETE CASCADE,
    FOREIGN KEY (corpid, userid_key) REFERENCES members (corpid, userid_key) ON DELETE CASCADE
);
INSERT INTO tag_users_new (corpid, tagid, userid_key)
    SELECT t.corpid, t.tagid, t.userid_key FROM tag_users t
    JOIN members m ON m.corpid = t.corpid AND m.userid_key = t.userid_key;
DROP TABLE tag_users;
ALTER TABLE tag_users_new RENAME TO tag_users;
-- A member's tags (range checks), and the cascade when a member is deleted.
CREATE INDEX tag_users_by_member ON tag_users (corpid, userid_key);

-- 企业号 接口权限 "获取标签成员": without it a 管理组 may not call tag/get (on unless switched off).
ALTER TABLE mgmt_groups ADD COLUMN get_tag_members BIGINT NOT NULL DEFAULT 1;

-- JSON list of the IPs (or CIDR ranges) from which the contacts-sync secret read contact details
-- before 2022-08-15; from any other IP user/list, user/simplelist and department/list answer
-- 48009. NULL: the corp predates the rule and every IP may read.
ALTER TABLE corps ADD COLUMN contact_sync_read_ips TEXT;
