//! Members (wecom-api.md §4, legacy-api.md §3): each write is one transaction that locks the
//! departments it fills, checks uniqueness and capacity, writes, and records its event.

use crate::event::{record_change, Origin};
use crate::{json_list, json_text, Backend, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};
use std::collections::HashMap;
use wecom_model::event::{ChangeContact, ChangeType};
use wecom_model::user::{mobile_existed, ContactKey, Cursor, Member, Placement, DEPARTMENT_CAPACITY};
use wecom_model::{ApiError, Errcode};

/// A write the platform refuses (`Err`), inside a store result.
pub type Refusable = Result<std::result::Result<(), ApiError>>;

const MEMBER_COLUMNS: &str = "m.userid_key, m.userid, m.name, m.alias, m.mobile, m.email, m.position, m.gender, m.english_name, \
     m.telephone, m.weixinid, m.address, m.active, m.enable, m.direct_leader, m.main_department, m.extattr, \
     m.userid_generated, m.quit, m.biz_mail, m.biz_mail_alias, m.avatar_mediaid, m.external_position, m.external_profile";

/// The columns a renamed member's new row copies from its old one (all but its identity).
const COPIED_COLUMNS: &str = "name, alias, mobile, email, position, gender, english_name, telephone, weixinid, active, enable, \
     created_at, direct_leader, main_department, extattr, address, avatar_mediaid, userid_generated, quit, biz_mail, biz_mail_alias, \
     external_position, external_profile";

/// A member row without its departments (added by [`attach`]).
fn member_of(r: &AnyRow) -> Member {
    let extattr: String = r.get("extattr");
    Member {
        userid: r.get("userid"),
        name: r.get("name"),
        alias: r.get("alias"),
        mobile: r.get("mobile"),
        email: r.get("email"),
        position: r.get("position"),
        gender: r.get("gender"),
        english_name: r.get("english_name"),
        telephone: r.get("telephone"),
        weixinid: r.get("weixinid"),
        address: r.get("address"),
        active: r.get::<i64, _>("active") != 0,
        enable: r.get::<i64, _>("enable") != 0,
        departments: Vec::new(),
        main_department: r.get("main_department"),
        direct_leader: json_list(r, "direct_leader"),
        extattr: serde_json::from_str(&extattr).ok(),
        userid_generated: r.get::<i64, _>("userid_generated") != 0,
        quit: r.get::<i64, _>("quit") != 0,
        biz_mail: r.get("biz_mail"),
        biz_mail_alias: json_list(r, "biz_mail_alias"),
        avatar_mediaid: r.get("avatar_mediaid"),
        external_position: r.get("external_position"),
        external_profile: serde_json::from_str(&r.get::<String, _>("external_profile")).ok(),
    }
}

fn json_or_empty(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// Gives each member its departments from `(userid_key, department_id, position, is_leader)` rows
/// in list order. A seeded member without a main department has its first one.
fn attach(mut members: Vec<(String, Member)>, placements: Vec<AnyRow>) -> Vec<Member> {
    let mut by_key: HashMap<String, Vec<Placement>> = HashMap::new();
    for r in placements {
        by_key.entry(r.get("userid_key")).or_default().push(Placement {
            department: r.get("department_id"),
            order: r.get("position"),
            is_leader: r.get::<i64, _>("is_leader") != 0,
        });
    }
    for (key, m) in &mut members {
        m.departments = by_key.remove(key.as_str()).unwrap_or_default();
        if !m.departments.iter().any(|p| p.department == m.main_department) {
            m.main_department = m.departments.first().map_or(0, |p| p.department);
        }
    }
    members.into_iter().map(|(_, m)| m).collect()
}

/// Unique-index violations of a racing writer, as the platform's errcodes.
fn conflict(e: &sqlx::Error) -> Option<ApiError> {
    let sqlx::Error::Database(db) = e else { return None };
    if !db.is_unique_violation() {
        return None;
    }
    let what = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
    Some(
        if what.contains("biz_mail") {
            Errcode::BizMailExisted
        } else if what.contains("mobile") {
            Errcode::MobileExisted
        } else if what.contains("email") {
            Errcode::EmailExisted
        } else if what.contains("weixinid") {
            Errcode::WeixinidExisted
        } else {
            Errcode::UseridExisted
        }
        .into(),
    )
}

/// One member by userid_key; `lock` is appended to its row's SELECT (`FOR UPDATE` in a write).
pub(crate) async fn load_member(conn: &mut AnyConnection, corpid: &str, key: &str, lock: &str) -> Result<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE m.corpid = $1 AND m.userid_key = $2{lock}");
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(key).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let placements = sqlx::query(
        "SELECT userid_key, department_id, position, is_leader FROM member_departments WHERE corpid = $1 AND userid_key = $2 \
         ORDER BY seq, department_id",
    )
    .bind(corpid)
    .bind(key)
    .fetch_all(&mut *conn)
    .await?;
    Ok(attach(vec![(key.to_string(), member_of(&row))], placements).pop())
}

impl Store {
    fn lock_department_sql(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "SELECT id FROM departments WHERE corpid = $1 AND id = $2 FOR UPDATE",
            // The single writer connection already serialises SQLite writers.
            Backend::Sqlite => "SELECT id FROM departments WHERE corpid = $1 AND id = $2",
        }
    }

    /// One member by userid (ignoring case), with its departments.
    pub async fn member(&self, corpid: &str, userid: &str) -> Result<Option<Member>> {
        let mut conn = self.read.acquire().await?;
        load_member(&mut conn, corpid, &userid.to_lowercase(), "").await
    }

    /// The members directly in a department, or in its whole subtree: larger `order` first, then
    /// the earlier created.
    pub async fn department_members(&self, corpid: &str, department: i64, fetch_child: bool) -> Result<Vec<Member>> {
        const SUBTREE: &str = "WITH RECURSIVE sub (id) AS ( \
               SELECT CAST($2 AS BIGINT) \
               UNION SELECT d.id FROM departments d JOIN sub ON d.parentid = sub.id WHERE d.corpid = $1 AND $3 = 1 \
             ), keys AS ( \
               SELECT md.userid_key, MAX(md.position) AS pos FROM member_departments md JOIN sub ON md.department_id = sub.id \
               WHERE md.corpid = $1 GROUP BY md.userid_key)";
        let child = i64::from(fetch_child);
        let sql = format!(
            "{SUBTREE} SELECT {MEMBER_COLUMNS} FROM members m JOIN keys ON m.userid_key = keys.userid_key WHERE m.corpid = $1 \
             ORDER BY keys.pos DESC, m.created_at, m.userid_key"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(department).bind(child).fetch_all(&self.read).await?;
        let sql = format!(
            "{SUBTREE} SELECT md.userid_key, md.department_id, md.position, md.is_leader FROM member_departments md \
             JOIN keys ON md.userid_key = keys.userid_key WHERE md.corpid = $1 ORDER BY md.seq, md.department_id"
        );
        let placements = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(department).bind(child).fetch_all(&self.read).await?;
        Ok(attach(rows.iter().map(|r| (r.get("userid_key"), member_of(r))).collect(), placements))
    }

    /// The userid of the member whose mobile, corp mailbox or email is `value`.
    pub async fn userid_by_contact(&self, corpid: &str, key: ContactKey, value: &str) -> Result<Option<String>> {
        let sql = match key {
            ContactKey::Mobile => "SELECT userid FROM members WHERE corpid = $1 AND mobile = $2",
            ContactKey::BizMail => "SELECT userid FROM members WHERE corpid = $1 AND biz_mail = $2",
            ContactKey::Email => "SELECT userid FROM members WHERE corpid = $1 AND email = $2",
        };
        Ok(sqlx::query(sql).bind(corpid).bind(value).fetch_optional(&self.read).await?.map(|r| r.get(0)))
    }

    pub async fn tag_exists(&self, corpid: &str, tagid: i64) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM tags WHERE corpid = $1 AND tagid = $2")
            .bind(corpid)
            .bind(tagid)
            .fetch_optional(&self.read)
            .await?
            .is_some())
    }

    /// A department and its ancestors (itself first), or `None` when it does not exist.
    pub async fn department_ancestors(&self, corpid: &str, id: i64) -> Result<Option<Vec<i64>>> {
        let ids: Vec<i64> = sqlx::query(
            "WITH RECURSIVE up (id, depth) AS ( \
               SELECT id, 0 FROM departments WHERE corpid = $1 AND id = $2 \
               UNION SELECT d.parentid, up.depth + 1 FROM departments d JOIN up ON d.id = up.id WHERE d.corpid = $1 AND d.parentid <> 0 \
             ) SELECT id FROM up ORDER BY depth",
        )
        .bind(corpid)
        .bind(id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        Ok((!ids.is_empty()).then_some(ids))
    }

    /// One page of list_id: (userid, userid_key, department) after `after`, in key order.
    pub async fn member_departments_page(&self, corpid: &str, after: Option<&Cursor>, limit: i64) -> Result<Vec<(String, Cursor)>> {
        let (key, department) = after.map_or(("", 0), |c| (c.userid_key.as_str(), c.department));
        let rows = sqlx::query(
            "SELECT m.userid, md.userid_key, md.department_id FROM member_departments md \
             JOIN members m ON m.corpid = md.corpid AND m.userid_key = md.userid_key \
             WHERE md.corpid = $1 AND (md.userid_key > $2 OR (md.userid_key = $2 AND md.department_id > $3)) \
             ORDER BY md.userid_key, md.department_id LIMIT $4",
        )
        .bind(corpid)
        .bind(key)
        .bind(department)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(|r| (r.get("userid"), Cursor { userid_key: r.get("userid_key"), department: r.get("department_id") })).collect())
    }

    pub async fn create_member(&self, corpid: &str, m: &Member, origin: Origin, change: &ChangeContact, now: i64) -> Refusable {
        let mut tx = self.write.begin().await?;
        let created = self.create_member_in(&mut tx, corpid, m, origin, change, now).await?;
        if created.is_ok() {
            tx.commit().await?;
        }
        Ok(created)
    }

    /// user/create's write inside a transaction of the caller's (a batch job's step).
    pub(crate) async fn create_member_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        m: &Member,
        origin: Origin,
        change: &ChangeContact,
        now: i64,
    ) -> Refusable {
        let key = m.userid.to_lowercase();
        if sqlx::query("SELECT 1 FROM members WHERE corpid = $1 AND userid_key = $2")
            .bind(corpid)
            .bind(&key)
            .fetch_optional(&mut **tx)
            .await?
            .is_some()
        {
            return Ok(Err(Errcode::UseridExisted.into()));
        }
        if let Err(refused) = self.admit(tx, corpid, &key, m, &[]).await? {
            return Ok(Err(refused));
        }
        let inserted = sqlx::query(
            "INSERT INTO members (corpid, userid_key, userid, name, alias, mobile, email, position, gender, english_name, telephone, \
             weixinid, active, enable, created_at, direct_leader, main_department, extattr, address, userid_generated, biz_mail, \
             biz_mail_alias, avatar_mediaid, external_position, external_profile) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)",
        )
        .bind(corpid)
        .bind(&key)
        .bind(&m.userid)
        .bind(&m.name)
        .bind(&m.alias)
        .bind(&m.mobile)
        .bind(&m.email)
        .bind(&m.position)
        .bind(&m.gender)
        .bind(&m.english_name)
        .bind(&m.telephone)
        .bind(&m.weixinid)
        .bind(i64::from(m.active))
        .bind(i64::from(m.enable))
        .bind(now)
        .bind(json_text(&m.direct_leader))
        .bind(m.main_department)
        .bind(json_or_empty(&m.extattr))
        .bind(&m.address)
        .bind(i64::from(m.userid_generated))
        .bind(&m.biz_mail)
        .bind(json_text(&m.biz_mail_alias))
        .bind(&m.avatar_mediaid)
        .bind(&m.external_position)
        .bind(json_or_empty(&m.external_profile))
        .execute(&mut **tx)
        .await;
        if let Err(e) = inserted {
            return conflict(&e).map(Err).ok_or(e.into());
        }
        self.place(tx, corpid, &key, m).await?;
        record_change(tx, corpid, origin, change, now).await?;
        Ok(Ok(()))
    }

    /// Updates a member: `apply` turns the member as it is now (its row locked until the
    /// commit, so racing updates apply one after the other) into the new member and its event.
    pub async fn update_member<F>(&self, corpid: &str, userid: &str, origin: Origin, now: i64, apply: F) -> Refusable
    where
        F: FnOnce(&Member) -> std::result::Result<(Member, Option<ChangeContact>), ApiError>,
    {
        let mut tx = self.write.begin().await?;
        let updated = self.update_member_in(&mut tx, corpid, userid, origin, now, apply).await?;
        if updated.is_ok() {
            tx.commit().await?;
        }
        Ok(updated)
    }

    /// user/update's write inside a transaction of the caller's (a batch job's step).
    pub(crate) async fn update_member_in<F>(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        userid: &str,
        origin: Origin,
        now: i64,
        apply: F,
    ) -> Refusable
    where
        F: FnOnce(&Member) -> std::result::Result<(Member, Option<ChangeContact>), ApiError>,
    {
        let mut key = userid.to_lowercase();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            // The single writer connection already serialises SQLite writers.
            Backend::Sqlite => "",
        };
        let Some(old) = load_member(tx, corpid, &key, lock).await? else {
            return Ok(Err(Errcode::UseridNotFound.into()));
        };
        let (new, change) = match apply(&old) {
            Ok(applied) => applied,
            Err(refused) => return Ok(Err(refused)),
        };
        if new.userid != old.userid {
            match rename(tx, corpid, &old.userid, &new.userid).await? {
                Ok(new_key) => key = new_key,
                Err(refused) => return Ok(Err(refused)),
            }
        }
        let entered_before = old.department_ids();
        if let Err(refused) = self.admit(tx, corpid, &key, &new, &entered_before).await? {
            return Ok(Err(refused));
        }
        let updated = sqlx::query(
            "UPDATE members SET name = $3, alias = $4, mobile = $5, email = $6, position = $7, gender = $8, english_name = $9, \
             telephone = $10, weixinid = $11, enable = $12, direct_leader = $13, main_department = $14, extattr = $15, address = $16, \
             userid = $17, userid_generated = $18, biz_mail = $19, biz_mail_alias = $20, avatar_mediaid = $21, \
             external_position = $22, external_profile = $23 \
             WHERE corpid = $1 AND userid_key = $2",
        )
        .bind(corpid)
        .bind(&key)
        .bind(&new.name)
        .bind(&new.alias)
        .bind(&new.mobile)
        .bind(&new.email)
        .bind(&new.position)
        .bind(&new.gender)
        .bind(&new.english_name)
        .bind(&new.telephone)
        .bind(&new.weixinid)
        .bind(i64::from(new.enable))
        .bind(json_text(&new.direct_leader))
        .bind(new.main_department)
        .bind(json_or_empty(&new.extattr))
        .bind(&new.address)
        .bind(&new.userid)
        .bind(i64::from(new.userid_generated))
        .bind(&new.biz_mail)
        .bind(json_text(&new.biz_mail_alias))
        .bind(&new.avatar_mediaid)
        .bind(&new.external_position)
        .bind(json_or_empty(&new.external_profile))
        .execute(&mut **tx)
        .await;
        if let Err(e) = updated {
            return conflict(&e).map(Err).ok_or(e.into());
        }
        if old.departments != new.departments {
            sqlx::query("DELETE FROM member_departments WHERE corpid = $1 AND userid_key = $2")
                .bind(corpid)
                .bind(&key)
                .execute(&mut **tx)
                .await?;
            self.place(tx, corpid, &key, &new).await?;
        }
        if let Some(change) = change {
            record_change(tx, corpid, origin, &change, now).await?;
        }
        Ok(Ok(()))
    }

    /// Deletes every listed member or none: `missing` answers the first that does not exist.
    pub async fn delete_members(
        &self,
        corpid: &str,
        userids: &[String],
        missing: Errcode,
        origin: Origin,
        changes: &[ChangeContact],
        now: i64,
    ) -> Refusable {
        let mut tx = self.write.begin().await?;
        let deleted = delete_members_in(&mut tx, corpid, userids, missing, origin, changes, now).await?;
        if deleted.is_ok() {
            tx.commit().await?;
        }
        Ok(deleted)
    }

    /// The checks that need the store, inside the write: the member's departments still exist,
    /// those it newly enters have room (locked in id order, so racing writers queue and count
    /// what the others committed), and its mobile, email and weixinid are its own.
    async fn admit(&self, tx: &mut Transaction<'static, Any>, corpid: &str, key: &str, m: &Member, already_in: &[i64]) -> Refusable {
        let mut ids = m.department_ids();
        ids.sort_unstable();
        for &id in &ids {
            if sqlx::query(self.lock_department_sql()).bind(corpid).bind(id).fetch_optional(&mut **tx).await?.is_none() {
                return Ok(Err(Errcode::InvalidDepartmentId.into()));
            }
        }
        for &id in ids.iter().filter(|id| !already_in.contains(id)) {
            if children_used(tx, corpid, id).await? >= DEPARTMENT_CAPACITY {
                return Ok(Err(Errcode::DepartmentFull.into()));
            }
        }
        for (column, value, code) in [
            ("mobile", &m.mobile, Errcode::MobileExisted),
            ("email", &m.email, Errcode::EmailExisted),
            ("weixinid", &m.weixinid, Errcode::WeixinidExisted),
            ("biz_mail", &m.biz_mail, Errcode::BizMailExisted),
        ]
        .into_iter()
        .chain(m.biz_mail_alias.iter().map(|a| ("biz_mail", a, Errcode::BizMailExisted)))
        {
            if value.is_empty() {
                continue;
            }
            let sql = format!("SELECT userid FROM members WHERE corpid = $1 AND {column} = $2 AND userid_key <> $3");
            if let Some(owner) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(value).bind(key).fetch_optional(&mut **tx).await? {
                return Ok(Err(match code {
                    Errcode::MobileExisted => mobile_existed(&owner.get::<String, _>(0)),
                    other => other.into(),
                }));
            }
        }
        Ok(Ok(()))
    }

    async fn place(&self, tx: &mut Transaction<'static, Any>, corpid: &str, key: &str, m: &Member) -> Result<()> {
        for (seq, p) in m.departments.iter().enumerate() {
            sqlx::query("INSERT INTO member_departments (corpid, userid_key, department_id, position, is_leader, seq) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(corpid)
                .bind(key)
                .bind(p.department)
                .bind(p.order)
                .bind(i64::from(p.is_leader))
                .bind(seq as i64)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// Deletes members inside a transaction of the caller's, in key order (the order tag writes lock
/// members in, so the two cannot deadlock on PostgreSQL); `missing` answers one that is gone.
pub(crate) async fn delete_members_in(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    userids: &[String],
    missing: Errcode,
    origin: Origin,
    changes: &[ChangeContact],
    now: i64,
) -> Refusable {
    let mut order: Vec<(String, &ChangeContact)> = userids.iter().map(|u| u.to_lowercase()).zip(changes).collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, change) in order {
        for sql in [
            "DELETE FROM member_departments WHERE corpid = $1 AND userid_key = $2",
            "DELETE FROM tag_users WHERE corpid = $1 AND userid_key = $2",
            "DELETE FROM openids WHERE corpid = $1 AND userid_key = $2",
        ] {
            sqlx::query(sql).bind(corpid).bind(&key).execute(&mut **tx).await?;
        }
        let gone =
            sqlx::query("DELETE FROM members WHERE corpid = $1 AND userid_key = $2").bind(corpid).bind(&key).execute(&mut **tx).await?;
        if gone.rows_affected() == 0 {
            return Ok(Err(missing.into()));
        }
        rewrite_userid_lists(tx, corpid, &key, None).await?;
        record_change(tx, corpid, origin, change, now).await?;
    }
    Ok(Ok(()))
}

/// Members plus sub-departments directly in a department: what the 30000 cap (81001) counts.
pub(crate) async fn children_used(tx: &mut Transaction<'static, Any>, corpid: &str, id: i64) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT (SELECT COUNT(*) FROM member_departments WHERE corpid = $1 AND department_id = $2) \
              + (SELECT COUNT(*) FROM departments WHERE corpid = $1 AND parentid = $2)",
    )
    .bind(corpid)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?
    .get(0))
}

/// What a member does by itself (control API member actions, user/authsucc).
pub(crate) enum MemberAction {
    /// Logs in (企业号: follows): active, status 1, the mobile frozen from now on.
    Login,
    /// Leaves the corp: WeCom status 5.
    Leave,
}

/// Moves a member to a new userid (user/update new_userid) inside the update's transaction: a
/// new row under the new key takes the old row's fields, its departments, tags and openids, and
/// every other member's direct_leader and app visible range naming it follow. Answers the new
/// key, or 60102 when another member holds the new userid (ignoring case).
async fn rename(tx: &mut Transaction<'static, Any>, corpid: &str, old: &str, new: &str) -> Result<std::result::Result<String, ApiError>> {
    let (old_key, new_key) = (old.to_lowercase(), new.to_lowercase());
    if old_key != new_key {
        let taken = sqlx::query("SELECT 1 FROM members WHERE corpid = $1 AND userid_key = $2")
            .bind(corpid)
            .bind(&new_key)
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_some() {
            return Ok(Err(Errcode::UseridExisted.into()));
        }
        // The unique contact columns are freed on the old row first; the update that follows
        // writes them onto the new one.
        sqlx::query("UPDATE members SET mobile = '', email = '', weixinid = '', biz_mail = '' WHERE corpid = $1 AND userid_key = $2")
            .bind(corpid)
            .bind(&old_key)
            .execute(&mut **tx)
            .await?;
        let copy = format!(
            "INSERT INTO members (corpid, userid_key, userid, {COPIED_COLUMNS}) \
             SELECT corpid, $3, $4, {COPIED_COLUMNS} FROM members WHERE corpid = $1 AND userid_key = $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(copy)).bind(corpid).bind(&old_key).bind(&new_key).bind(new).execute(&mut **tx).await?;
        for sql in [
            "UPDATE member_departments SET userid_key = $3 WHERE corpid = $1 AND userid_key = $2",
            "UPDATE tag_users SET userid_key = $3 WHERE corpid = $1 AND userid_key = $2",
            "UPDATE openids SET userid_key = $3 WHERE corpid = $1 AND userid_key = $2",
            "DELETE FROM members WHERE corpid = $1 AND userid_key = $2",
        ] {
            sqlx::query(sql).bind(corpid).bind(&old_key).bind(&new_key).execute(&mut **tx).await?;
        }
    }
    rewrite_userid_lists(tx, corpid, old, Some(new)).await?;
    Ok(Ok(new_key))
}

/// Renames (`new`) or removes (`None`, the member was deleted) a userid in the userid lists other
/// rows keep: a rename follows into members' direct_leader and apps' allow_users; a deletion
/// leaves apps' allow_users, so that a later member of the same userid is not inside an app's
/// visible range (direct_leader is left as it is: scanning every member on each delete is too
/// dear for what it shows).
async fn rewrite_userid_lists(tx: &mut Transaction<'static, Any>, corpid: &str, old: &str, new: Option<&str>) -> Result<()> {
    // userid lists stored as JSON text: find the rows that may name the member, then change the
    // exact entries (ignoring case).
    let pattern = format!("%\"{}\"%", old.to_lowercase());
    let lists: &[_] = match new {
        Some(_) => &[("members", "userid_key", "direct_leader"), ("apps", "agentid", "allow_users")],
        None => &[("apps", "agentid", "allow_users")],
    };
    for (table, id, list) in lists {
        let sql = format!("SELECT CAST({id} AS TEXT) AS id, {list} FROM {table} WHERE corpid = $1 AND LOWER({list}) LIKE $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(&pattern).fetch_all(&mut **tx).await?;
        for r in rows {
            let before: Vec<String> = json_list(&r, list);
            let users: Vec<String> = match new {
                Some(new) => before.iter().map(|u| if u.eq_ignore_ascii_case(old) { new.to_string() } else { u.clone() }).collect(),
                None => before.iter().filter(|u| !u.eq_ignore_ascii_case(old)).cloned().collect(),
            };
            if users != before {
                let sql = format!("UPDATE {table} SET {list} = $3 WHERE corpid = $1 AND CAST({id} AS TEXT) = $2");
                let id: String = r.get("id");
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(id).bind(json_text(&users)).execute(&mut **tx).await?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Member action: the member leaves the corp (退出企业, WeCom status 5).
    pub async fn leave_member(&self, corpid: &str, userid: &str, origin: Origin, now: i64) -> Result<()> {
        self.member_action(corpid, userid, MemberAction::Leave, origin, now).await
    }

    /// Applies what the member did by itself, recorded as an update_user with its new Status.
    pub(crate) async fn member_action(&self, corpid: &str, userid: &str, action: MemberAction, origin: Origin, now: i64) -> Result<()> {
        let (sql, status) = match action {
            MemberAction::Login => ("UPDATE members SET active = 1 WHERE corpid = $1 AND userid_key = $2 RETURNING userid", 1),
            MemberAction::Leave => ("UPDATE members SET quit = 1 WHERE corpid = $1 AND userid_key = $2 RETURNING userid", 5),
        };
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(sql)
            .bind(corpid)
            .bind(userid.to_lowercase())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no member {userid} in corp {corpid}")))?;
        let change = ChangeContact::new(ChangeType::UpdateUser).item("UserID", row.get::<String, _>("userid")).item("Status", status);
        record_change(&mut tx, corpid, origin, &change, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The image an avatar_mediaid names: a temporary media of the corp uploaded as `image`
    /// and still within its 3 days; anything else answers 301015.
    pub async fn avatar_image(&self, corpid: &str, media_id: &str, now: i64) -> Result<Option<crate::MediaRow>> {
        Ok(self.media(corpid, media_id, now).await?.filter(|m| m.media_type == "image"))
    }

    /// When an app was created (unix seconds): apps created after 2022-06-20 no longer see the
    /// members' sensitive fields.
    pub async fn app_created_at(&self, corpid: &str, agentid: i64) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT created_at FROM apps WHERE corpid = $1 AND agentid = $2")
            .bind(corpid)
            .bind(agentid)
            .fetch_optional(&self.read)
            .await?
            .map(|r| r.get(0)))
    }
}
