//! Departments, members and tags as a seed writes them. The contacts API (its rules, views and
//! errcodes) is built on these tables.

use crate::event::Origin;
use crate::member::MemberAction;
use crate::{Result, Store, StoreError};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use std::collections::{HashMap, HashSet};
use wecom_model::department::RANK_STEP;
use wecom_model::scope::MemberPlace;
use wecom_model::seed::CorpSeed;
use wecom_model::user::new_openid;

/// Rows per statement when a seed writes members. Small on purpose: SQLite looks each `$N` up by
/// name in a list, so a statement's binding cost grows with the square of its parameter count.
const MEMBER_BATCH: usize = 32;

/// `$first, $first+1, …` for `n` parameters.
pub(crate) fn params(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($1, …, $cols), ($cols+1, …), …` for `rows` rows.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows).map(|r| format!("({})", params(r * cols + 1, cols))).collect::<Vec<_>>().join(", ")
}

pub(crate) async fn ensure_root_department(tx: &mut Transaction<'static, Any>, corpid: &str, name: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO departments (corpid, id, name, name_en, parentid, sibling_rank) VALUES ($1, 1, $2, '', 0, 0) \
         ON CONFLICT (corpid, id) DO NOTHING",
    )
    .bind(corpid)
    .bind(name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Fails with `what()` unless `sql` (binding corpid and one id) finds a row.
pub(crate) async fn require<T>(
    tx: &mut Transaction<'static, Any>,
    sql: &'static str,
    corpid: &str,
    id: T,
    what: impl FnOnce() -> String,
) -> Result<()>
where
    T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Send + 'static,
{
    match sqlx::query(sql).bind(corpid).bind(id).fetch_optional(&mut **tx).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::Invalid(what())),
    }
}

pub(crate) async fn require_department(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    id: i64,
    what: impl FnOnce() -> String,
) -> Result<()> {
    require(tx, "SELECT 1 FROM departments WHERE corpid = $1 AND id = $2", corpid, id, what).await
}

pub(crate) async fn upsert_contacts(tx: &mut Transaction<'static, Any>, corp: &CorpSeed, now: i64) -> Result<()> {
    let corpid = corp.corpid.as_str();
    // Parents first: a department may name a parent that comes later in the file.
    let in_file: HashMap<i64, Option<i64>> = corp.department.iter().map(|d| (d.id, d.parentid)).collect();
    let mut placed: HashSet<i64> = HashSet::new();
    let mut pending: Vec<_> = corp.department.iter().enumerate().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut later = Vec::new();
        for (pos, d) in pending {
            let parent = d.parentid.unwrap_or(0);
            if d.id != 1 && in_file.contains_key(&parent) && !placed.contains(&parent) {
                later.push((pos, d));
                continue;
            }
            if d.id == 1 {
                sqlx::query("UPDATE departments SET name = $1, name_en = $2 WHERE corpid = $3 AND id = 1")
                    .bind(&d.name)
                    .bind(&d.name_en)
                    .bind(corpid)
                    .execute(&mut **tx)
                    .await?;
            } else {
                require_department(tx, corpid, parent, || format!("department {} has unknown parent {parent}", d.id)).await?;
                sqlx::query(
                    "INSERT INTO departments (corpid, id, name, name_en, parentid, sibling_rank) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (corpid, id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, \
                     parentid = excluded.parentid, sibling_rank = excluded.sibling_rank",
                )
                .bind(corpid)
                .bind(d.id)
                .bind(&d.name)
                .bind(&d.name_en)
                .bind(parent)
                .bind((pos as i64 + 1) * RANK_STEP)
                .execute(&mut **tx)
                .await?;
            }
            placed.insert(d.id);
        }
        if later.len() == before {
            return Err(StoreError::Invalid("departments form a cycle".into()));
        }
        pending = later;
    }

    // Members go in batches: a seed may hold a million of them.
    let departments: HashSet<i64> = sqlx::query("SELECT id FROM departments WHERE corpid = $1")
        .bind(corpid)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for chunk in corp.member.chunks(MEMBER_BATCH) {
        if let Some((m, d)) = chunk.iter().flat_map(|m| m.department.iter().map(move |d| (m, d))).find(|(_, d)| !departments.contains(d)) {
            return Err(StoreError::Invalid(format!("member {} is in unknown department {d}", m.userid)));
        }
        let keys: Vec<String> = chunk.iter().map(|m| m.userid.to_lowercase()).collect();
        let sql = format!(
            "INSERT INTO members (corpid, userid_key, userid, name, alias, mobile, email, position, gender, english_name, telephone, \
             weixinid, active, enable, created_at) VALUES {} \
             ON CONFLICT (corpid, userid_key) DO UPDATE SET userid = excluded.userid, name = excluded.name, alias = excluded.alias, \
             mobile = excluded.mobile, email = excluded.email, position = excluded.position, gender = excluded.gender, \
             english_name = excluded.english_name, telephone = excluded.telephone, weixinid = excluded.weixinid, active = excluded.active",
            placeholders(chunk.len(), 15)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (m, key) in chunk.iter().zip(&keys) {
            q = q
                .bind(corpid)
                .bind(key)
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
                .bind(1i64)
                .bind(now);
        }
        q.execute(&mut **tx).await?;

        let list = params(2, keys.len());
        let mut q =
            sqlx::query(AssertSqlSafe(format!("DELETE FROM member_departments WHERE corpid = $1 AND userid_key IN ({list})"))).bind(corpid);
        for key in &keys {
            q = q.bind(key);
        }
        q.execute(&mut **tx).await?;

        let rows: Vec<(&String, i64, i64)> = chunk
            .iter()
            .zip(&keys)
            .flat_map(|(m, key)| m.department.iter().map(move |d| (key, *d, i64::from(m.is_leader_in_dept.contains(d)))))
            .collect();
        for rows in rows.chunks(MEMBER_BATCH) {
            let sql = format!(
                "INSERT INTO member_departments (corpid, userid_key, department_id, position, is_leader) VALUES {}",
                placeholders(rows.len(), 5)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (key, d, leader) in rows {
                q = q.bind(corpid).bind(*key).bind(*d).bind(0i64).bind(*leader);
            }
            q.execute(&mut **tx).await?;
        }
    }

    for t in &corp.tag {
        sqlx::query(
            "INSERT INTO tags (corpid, tagid, tagname, owner, locked) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (corpid, tagid) DO UPDATE SET tagname = excluded.tagname, owner = excluded.owner, locked = excluded.locked",
        )
        .bind(corpid)
        .bind(t.tagid)
        .bind(&t.tagname)
        .bind(&t.owner)
        .bind(i64::from(t.locked))
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM tag_users WHERE corpid = $1 AND tagid = $2").bind(corpid).bind(t.tagid).execute(&mut **tx).await?;
        sqlx::query("DELETE FROM tag_parties WHERE corpid = $1 AND tagid = $2").bind(corpid).bind(t.tagid).execute(&mut **tx).await?;
        for users in t.users.chunks(MEMBER_BATCH) {
            let keys: Vec<String> = users.iter().map(|u| u.to_lowercase()).collect();
            let list = params(2, keys.len());
            let mut q = sqlx::query(AssertSqlSafe(format!("SELECT userid_key FROM members WHERE corpid = $1 AND userid_key IN ({list})")))
                .bind(corpid);
            for key in &keys {
                q = q.bind(key);
            }
            let found: HashSet<String> = q.fetch_all(&mut **tx).await?.iter().map(|r| r.get(0)).collect();
            if let Some(u) = users.iter().zip(&keys).find(|(_, k)| !found.contains(*k)).map(|(u, _)| u) {
                return Err(StoreError::Invalid(format!("tag {} names unknown member {u}", t.tagid)));
            }
            let mut q = sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO tag_users (corpid, tagid, userid_key) VALUES {}",
                placeholders(keys.len(), 3)
            )));
            for key in &keys {
                q = q.bind(corpid).bind(t.tagid).bind(key);
            }
            q.execute(&mut **tx).await?;
        }
        for p in &t.parties {
            require_department(tx, corpid, *p, || format!("tag {} names unknown department {p}", t.tagid)).await?;
            sqlx::query("INSERT INTO tag_parties (corpid, tagid, department_id) VALUES ($1, $2, $3)")
                .bind(corpid)
                .bind(t.tagid)
                .bind(*p)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

impl Store {
    /// The member logs in to WeCom (or, 企业号, passes 二次验证 through user/authsucc): activated
    /// (status 1), and from now on its mobile is frozen.
    pub async fn login_member(&self, corpid: &str, userid: &str, origin: Origin, now: i64) -> Result<()> {
        self.member_action(corpid, userid, MemberAction::Login, origin, now).await
    }

    /// Locks or unlocks a tag (an admin-console action on the legacy platform).
    pub async fn set_tag_locked(&self, corpid: &str, tagid: i64, locked: bool) -> Result<()> {
        let done = sqlx::query("UPDATE tags SET locked = $1 WHERE corpid = $2 AND tagid = $3")
            .bind(i64::from(locked))
            .bind(corpid)
            .bind(tagid)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no tag {tagid} in corp {corpid}")));
        }
        Ok(())
    }

    /// A member (userids ignore case) with its departments and their ancestors, and its tags.
    pub async fn member_place(&self, corpid: &str, userid: &str) -> Result<Option<MemberPlace>> {
        let key = userid.to_lowercase();
        let Some(m) = sqlx::query("SELECT userid, active FROM members WHERE corpid = $1 AND userid_key = $2")
            .bind(corpid)
            .bind(&key)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let departments: Vec<i64> = sqlx::query(
            "WITH RECURSIVE up (id) AS ( \
               SELECT department_id FROM member_departments WHERE corpid = $1 AND userid_key = $2 \
               UNION SELECT d.parentid FROM departments d JOIN up ON d.id = up.id WHERE d.corpid = $1 AND d.parentid <> 0 \
             ) SELECT id FROM up ORDER BY id",
        )
        .bind(corpid)
        .bind(&key)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let mut tags: Vec<i64> = sqlx::query("SELECT tagid FROM tag_users WHERE corpid = $1 AND userid_key = $2")
            .bind(corpid)
            .bind(&key)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for r in sqlx::query("SELECT tagid, department_id FROM tag_parties WHERE corpid = $1").bind(corpid).fetch_all(&self.read).await? {
            let (tagid, dept): (i64, i64) = (r.get(0), r.get(1));
            if departments.contains(&dept) && !tags.contains(&tagid) {
                tags.push(tagid);
            }
        }
        tags.sort_unstable();
        Ok(Some(MemberPlace { userid: m.get("userid"), active: m.get::<i64, _>("active") != 0, departments, tags }))
    }

    /// The member's openid for the corp (agentid 0) or for one app, made on first request.
    pub async fn openid(&self, corpid: &str, userid: &str, agentid: i64) -> Result<String> {
        let key = userid.to_lowercase();
        sqlx::query("INSERT INTO openids (corpid, openid, userid_key, agentid) VALUES ($1, $2, $3, $4) ON CONFLICT (corpid, userid_key, agentid) DO NOTHING")
            .bind(corpid)
            .bind(new_openid())
            .bind(&key)
            .bind(agentid)
            .execute(&self.write)
            .await?;
        let row = sqlx::query("SELECT openid FROM openids WHERE corpid = $1 AND userid_key = $2 AND agentid = $3")
            .bind(corpid)
            .bind(&key)
            .bind(agentid)
            .fetch_one(&self.write)
            .await?;
        Ok(row.get(0))
    }

    /// The userid an openid was made for.
    pub async fn openid_owner(&self, corpid: &str, openid: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT m.userid FROM openids o JOIN members m ON m.corpid = o.corpid AND m.userid_key = o.userid_key WHERE o.corpid = $1 AND o.openid = $2")
            .bind(corpid)
            .bind(openid)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
