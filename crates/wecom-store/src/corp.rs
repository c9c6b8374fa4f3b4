//! Corps, apps, management groups, and applying a seed.

use crate::credential::upsert_credential;
use crate::{contact, json_list, json_text, Backend, Result, Store, StoreError};
use serde::Serialize;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use wecom_model::credential::{Scope, FIRST_AGENTID};
use wecom_model::seed::{AppSeed, CorpSeed, GroupAppRight, GroupDepartmentRight, GroupSeed, Seed};
use wecom_model::user::new_appid;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CorpRow {
    pub corpid: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AppRow {
    pub agentid: i64,
    pub appid: String,
    pub name: String,
    pub description: String,
    pub allow_users: Vec<String>,
    pub allow_parties: Vec<i64>,
    pub allow_tags: Vec<i64>,
    pub contact_edit: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupRow {
    pub groupid: i64,
    pub name: String,
    pub apps: Vec<GroupAppRight>,
    pub departments: Vec<GroupDepartmentRight>,
    pub tags: Vec<i64>,
    /// 接口权限 "获取标签成员" (tag/get).
    pub get_tag_members: bool,
}

impl Store {
    pub async fn corps(&self) -> Result<Vec<CorpRow>> {
        let rows = sqlx::query("SELECT corpid, name, created_at FROM corps ORDER BY created_at, corpid").fetch_all(&self.read).await?;
        Ok(rows.iter().map(|r| CorpRow { corpid: r.get("corpid"), name: r.get("name"), created_at: r.get("created_at") }).collect())
    }

    pub async fn corp(&self, corpid: &str) -> Result<Option<CorpRow>> {
        let row =
            sqlx::query("SELECT corpid, name, created_at FROM corps WHERE corpid = $1").bind(corpid).fetch_optional(&self.read).await?;
        Ok(row.map(|r| CorpRow { corpid: r.get("corpid"), name: r.get("name"), created_at: r.get("created_at") }))
    }

    /// A new corp with its root department and contacts-sync secret.
    pub async fn create_corp(&self, corp: &CorpSeed, now: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        if self.corp(&corp.corpid).await?.is_some() {
            return Err(StoreError::Conflict(format!("corp {} exists", corp.corpid)));
        }
        upsert_corp(&mut tx, corp, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn apps(&self, corpid: &str) -> Result<Vec<AppRow>> {
        let rows = sqlx::query(
            "SELECT agentid, appid, name, description, allow_users, allow_parties, allow_tags, contact_edit FROM apps WHERE corpid = $1 ORDER BY agentid",
        )
        .bind(corpid)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AppRow {
                agentid: r.get("agentid"),
                appid: r.get("appid"),
                name: r.get("name"),
                description: r.get("description"),
                allow_users: json_list(r, "allow_users"),
                allow_parties: json_list(r, "allow_parties"),
                allow_tags: json_list(r, "allow_tags"),
                contact_edit: r.get::<i64, _>("contact_edit") != 0,
            })
            .collect())
    }

    pub async fn app(&self, corpid: &str, agentid: i64) -> Result<Option<AppRow>> {
        Ok(self.apps(corpid).await?.into_iter().find(|a| a.agentid == agentid))
    }

    pub async fn group(&self, corpid: &str, groupid: i64) -> Result<Option<GroupRow>> {
        Ok(self.groups(corpid).await?.into_iter().find(|g| g.groupid == groupid))
    }

    /// The agentid a new app gets when none is asked for: the next after the highest.
    pub async fn next_agentid(&self, corpid: &str) -> Result<i64> {
        let max: Option<i64> =
            sqlx::query("SELECT MAX(agentid) FROM apps WHERE corpid = $1").bind(corpid).fetch_one(&self.read).await?.get(0);
        Ok(max.map_or(FIRST_AGENTID + 1, |m| (m + 1).max(FIRST_AGENTID + 1)))
    }

    pub async fn create_app(&self, corpid: &str, app: &AppSeed, now: i64) -> Result<String> {
        let mut tx = self.write.begin().await?;
        self.require_corp(corpid).await?;
        let taken = sqlx::query("SELECT 1 FROM apps WHERE corpid = $1 AND agentid = $2")
            .bind(corpid)
            .bind(app.agentid)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("agentid {} exists in corp {corpid}", app.agentid)));
        }
        let secret = upsert_app(&mut tx, corpid, app, now).await?;
        tx.commit().await?;
        Ok(secret)
    }

    pub async fn groups(&self, corpid: &str) -> Result<Vec<GroupRow>> {
        let groups = sqlx::query("SELECT groupid, name, get_tag_members FROM mgmt_groups WHERE corpid = $1 ORDER BY groupid")
            .bind(corpid)
            .fetch_all(&self.read)
            .await?;
        let apps = sqlx::query("SELECT groupid, agentid, app_right FROM group_app_rights WHERE corpid = $1 ORDER BY agentid")
            .bind(corpid)
            .fetch_all(&self.read)
            .await?;
        let depts = sqlx::query(
            "SELECT groupid, department_id, contact_right FROM group_department_rights WHERE corpid = $1 ORDER BY department_id",
        )
        .bind(corpid)
        .fetch_all(&self.read)
        .await?;
        let tags = sqlx::query("SELECT groupid, tagid FROM group_tags WHERE corpid = $1 ORDER BY tagid")
            .bind(corpid)
            .fetch_all(&self.read)
            .await?;
        let mut out = Vec::new();
        for g in groups {
            let groupid: i64 = g.get("groupid");
            let mine = |r: &&sqlx::any::AnyRow| r.get::<i64, _>("groupid") == groupid;
            out.push(GroupRow {
                groupid,
                name: g.get("name"),
                apps: apps
                    .iter()
                    .filter(mine)
                    .map(|r| Ok(GroupAppRight { agentid: r.get("agentid"), right: parse_right(&r.get::<String, _>("app_right"))? }))
                    .collect::<Result<_>>()?,
                departments: depts
                    .iter()
                    .filter(mine)
                    .map(|r| {
                        Ok(GroupDepartmentRight { id: r.get("department_id"), right: parse_right(&r.get::<String, _>("contact_right"))? })
                    })
                    .collect::<Result<_>>()?,
                tags: tags.iter().filter(mine).map(|r| r.get("tagid")).collect(),
                get_tag_members: g.get::<i64, _>("get_tag_members") != 0,
            });
        }
        Ok(out)
    }

    pub async fn next_groupid(&self, corpid: &str) -> Result<i64> {
        let max: Option<i64> =
            sqlx::query("SELECT MAX(groupid) FROM mgmt_groups WHERE corpid = $1").bind(corpid).fetch_one(&self.read).await?.get(0);
        Ok(max.unwrap_or(0) + 1)
    }

    pub async fn create_group(&self, corpid: &str, group: &GroupSeed, now: i64) -> Result<String> {
        let mut tx = self.write.begin().await?;
        self.require_corp(corpid).await?;
        let taken = sqlx::query("SELECT 1 FROM mgmt_groups WHERE corpid = $1 AND groupid = $2")
            .bind(corpid)
            .bind(group.groupid)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("group {} exists in corp {corpid}", group.groupid)));
        }
        let secret = upsert_group(&mut tx, corpid, group, now).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Applies a seed in one transaction: all of it or, on any error, none of it.
    pub async fn apply_seed(&self, seed: &Seed, now: i64) -> Result<()> {
        seed.check().map_err(|e| StoreError::Invalid(e.to_string()))?;
        // A seed can change who an @all reaches: pending ones reach whom they did when sent.
        for corp in &seed.corp {
            self.settle_fanouts(&corp.corpid, None, &|| true).await?;
        }
        let mut tx = self.write.begin().await?;
        if self.backend == Backend::Postgres {
            // Instances starting together with the same seed take turns instead of colliding.
            sqlx::query("SELECT pg_advisory_xact_lock(7741000)").execute(&mut *tx).await?;
        }
        for corp in &seed.corp {
            upsert_corp(&mut tx, corp, now).await?;
            for app in &corp.app {
                upsert_app(&mut tx, &corp.corpid, app, now).await?;
            }
            contact::upsert_contacts(&mut tx, corp, now).await?;
            if let Some(kf) = &corp.kf {
                crate::removed::upsert_kf(&mut tx, &corp.corpid, kf).await?;
            }
            for group in &corp.group {
                upsert_group(&mut tx, &corp.corpid, group, now).await?;
            }
            for cb in &corp.callback {
                let owner = cb.owner().map_err(StoreError::Invalid)?;
                crate::callback::upsert_callback(&mut tx, &corp.corpid, owner, &cb.settings(), now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The IPs the contacts-sync secret read contact details from before 2022-08-15, or `None` when
    /// the corp predates that rule (see `wecom_model::scope::check_detail_read`).
    pub async fn contact_sync_read_ips(&self, corpid: &str) -> Result<Option<Vec<String>>> {
        let row = sqlx::query("SELECT contact_sync_read_ips FROM corps WHERE corpid = $1").bind(corpid).fetch_optional(&self.read).await?;
        let text: Option<String> = row.and_then(|r| r.get(0));
        Ok(text.map(|t| serde_json::from_str(&t).unwrap_or_default()))
    }

    pub async fn set_contact_sync_read_ips(&self, corpid: &str, ips: Option<&[String]>) -> Result<()> {
        let done = sqlx::query("UPDATE corps SET contact_sync_read_ips = $1 WHERE corpid = $2")
            .bind(ips.map(|i| json_text(&i)))
            .bind(corpid)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no corp {corpid}")));
        }
        Ok(())
    }

    /// Switches a 管理组's 接口权限 "获取标签成员" (tag/get) on or off.
    pub async fn set_group_get_tag_members(&self, corpid: &str, groupid: i64, on: bool) -> Result<()> {
        let done = sqlx::query("UPDATE mgmt_groups SET get_tag_members = $1 WHERE corpid = $2 AND groupid = $3")
            .bind(i64::from(on))
            .bind(corpid)
            .bind(groupid)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no group {groupid} in corp {corpid}")));
        }
        Ok(())
    }

    pub(crate) async fn require_corp(&self, corpid: &str) -> Result<()> {
        match self.corp(corpid).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(format!("no corp {corpid}"))),
        }
    }
}

/// Removes `id` from one id-list column of every app in the corp (`allow_parties` or
/// `allow_tags`), inside the transaction that deletes the department or tag: a later one given the
/// same id must not become visible to the apps that saw the old one.
pub(crate) async fn drop_from_app_lists(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    corpid: &str,
    column: &'static str,
    id: i64,
) -> Result<()> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        // The single writer connection already serialises SQLite writers.
        Backend::Sqlite => "",
    };
    let sql = format!("SELECT agentid, {column} FROM apps WHERE corpid = $1{lock}");
    for r in sqlx::query(AssertSqlSafe(sql)).bind(corpid).fetch_all(&mut **tx).await? {
        let mut ids: Vec<i64> = json_list(&r, column);
        if !ids.contains(&id) {
            continue;
        }
        ids.retain(|x| *x != id);
        sqlx::query(AssertSqlSafe(format!("UPDATE apps SET {column} = $1 WHERE corpid = $2 AND agentid = $3")))
            .bind(json_text(&ids))
            .bind(corpid)
            .bind(r.get::<i64, _>("agentid"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn parse_right<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| StoreError::Invalid(format!("stored right {s:?}")))
}

fn right_name<T: Serialize>(r: &T) -> String {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::String(s)) => s,
        _ => unreachable!("rights serialise as strings"),
    }
}

async fn upsert_corp(tx: &mut Transaction<'static, Any>, corp: &CorpSeed, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO corps (corpid, name, created_at, contact_sync_read_ips) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (corpid) DO UPDATE SET name = excluded.name, contact_sync_read_ips = excluded.contact_sync_read_ips",
    )
    .bind(&corp.corpid)
    .bind(&corp.name)
    .bind(now)
    .bind(corp.contact_sync_read_ips.as_ref().map(json_text))
    .execute(&mut **tx)
    .await?;
    contact::ensure_root_department(tx, &corp.corpid, &corp.name).await?;
    upsert_credential(tx, &corp.corpid, Scope::ContactSync, corp.contact_sync_secret.as_deref(), &corp.contact_sync_trusted_ips, now)
        .await?;
    // A seed turns the chat service on by naming its secret; leaving it out turns nothing off.
    if let Some(secret) = corp.chat_secret.as_deref() {
        upsert_credential(tx, &corp.corpid, Scope::Chat, Some(secret), &[], now).await?;
    }
    Ok(())
}

async fn upsert_app(tx: &mut Transaction<'static, Any>, corpid: &str, app: &AppSeed, now: i64) -> Result<String> {
    sqlx::query(
        "INSERT INTO apps (corpid, agentid, name, description, allow_users, allow_parties, allow_tags, created_at, appid, contact_edit) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (corpid, agentid) DO UPDATE SET \
         name = excluded.name, description = excluded.description, allow_users = excluded.allow_users, \
         allow_parties = excluded.allow_parties, allow_tags = excluded.allow_tags, contact_edit = excluded.contact_edit, \
         created_at = CASE WHEN $11 = 1 THEN excluded.created_at ELSE apps.created_at END",
    )
    .bind(corpid)
    .bind(app.agentid)
    .bind(&app.name)
    .bind(&app.description)
    .bind(json_text(&app.allow_users))
    .bind(json_text(&app.allow_parties))
    .bind(json_text(&app.allow_tags))
    .bind(app.created_at().unwrap_or(now))
    .bind(new_appid())
    .bind(i64::from(app.contact_edit))
    .bind(i64::from(app.created.is_some()))
    .execute(&mut **tx)
    .await?;
    crate::agent::write_attributes(tx, corpid, app.agentid, &app.attributes()).await?;
    upsert_credential(tx, corpid, Scope::App { agentid: app.agentid }, app.secret.as_deref(), &app.trusted_ips, now).await
}

async fn upsert_group(tx: &mut Transaction<'static, Any>, corpid: &str, group: &GroupSeed, now: i64) -> Result<String> {
    sqlx::query(
        "INSERT INTO mgmt_groups (corpid, groupid, name, get_tag_members) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (corpid, groupid) DO UPDATE SET name = excluded.name, get_tag_members = excluded.get_tag_members",
    )
    .bind(corpid)
    .bind(group.groupid)
    .bind(&group.name)
    .bind(i64::from(group.get_tag_members))
    .execute(&mut **tx)
    .await?;
    for table in ["group_app_rights", "group_department_rights", "group_tags"] {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE corpid = $1 AND groupid = $2")))
            .bind(corpid)
            .bind(group.groupid)
            .execute(&mut **tx)
            .await?;
    }
    for r in &group.apps {
        contact::require(tx, "SELECT 1 FROM apps WHERE corpid = $1 AND agentid = $2", corpid, r.agentid, || {
            format!("group {} has rights on unknown app {}", group.groupid, r.agentid)
        })
        .await?;
        sqlx::query("INSERT INTO group_app_rights (corpid, groupid, agentid, app_right) VALUES ($1, $2, $3, $4)")
            .bind(corpid)
            .bind(group.groupid)
            .bind(r.agentid)
            .bind(right_name(&r.right))
            .execute(&mut **tx)
            .await?;
    }
    for r in &group.departments {
        contact::require_department(tx, corpid, r.id, || format!("group {} has rights on unknown department {}", group.groupid, r.id))
            .await?;
        sqlx::query("INSERT INTO group_department_rights (corpid, groupid, department_id, contact_right) VALUES ($1, $2, $3, $4)")
            .bind(corpid)
            .bind(group.groupid)
            .bind(r.id)
            .bind(right_name(&r.right))
            .execute(&mut **tx)
            .await?;
    }
    for tagid in &group.tags {
        contact::require(tx, "SELECT 1 FROM tags WHERE corpid = $1 AND tagid = $2", corpid, *tagid, || {
            format!("group {} sees unknown tag {tagid}", group.groupid)
        })
        .await?;
        sqlx::query("INSERT INTO group_tags (corpid, groupid, tagid) VALUES ($1, $2, $3)")
            .bind(corpid)
            .bind(group.groupid)
            .bind(*tagid)
            .execute(&mut **tx)
            .await?;
    }
    upsert_credential(tx, corpid, Scope::Group { groupid: group.groupid }, group.secret.as_deref(), &[], now).await
}
