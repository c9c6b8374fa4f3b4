//! Tags (contacts): the tags, their users and parties. Rule failures come back as the platform's
//! errcode (the inner `Result`); the rules themselves are in `wecom_model::tag`.

use crate::event::{record_change, Origin};
use crate::{Backend, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;
use wecom_model::credential::Scope;
use wecom_model::event::{ChangeContact, ChangeType};
use wecom_model::scope::MemberPlace;
use wecom_model::tag::{all_invalid, check_tag_size, new_tagid, Tag};
use wecom_model::Errcode;

/// A rule failure inside a write: nothing was changed.
pub type Rule<T> = std::result::Result<T, Errcode>;

/// The users (where each sits, and its name) and parties of one tag, ordered by userid and id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagMembers {
    pub users: Vec<(MemberPlace, String)>,
    pub parties: Vec<i64>,
}

/// The valid users and parties of one addtagusers/deltagusers call (the call named at least one
/// user or party; both lists empty means all it named were invalid). Userids in any case.
#[derive(Debug, Clone, Copy)]
pub struct MemberChange<'a> {
    pub add: bool,
    pub users: &'a [String],
    pub parties: &'a [i64],
}

const TAG_COLUMNS: &str = "SELECT tagid, tagname, owner, locked FROM tags WHERE corpid = $1";

fn tag_of(r: &AnyRow) -> Tag {
    Tag { tagid: r.get("tagid"), tagname: r.get("tagname"), owner: r.get("owner"), locked: r.get::<i64, _>("locked") != 0 }
}

impl Store {
    pub async fn tags(&self, corpid: &str) -> Result<Vec<Tag>> {
        let sql = format!("{TAG_COLUMNS} ORDER BY tagid");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).fetch_all(&self.read).await?;
        Ok(rows.iter().map(tag_of).collect())
    }

    pub async fn tag(&self, corpid: &str, tagid: i64) -> Result<Option<Tag>> {
        let sql = format!("{TAG_COLUMNS} AND tagid = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(tagid).fetch_optional(&self.read).await?;
        Ok(row.as_ref().map(tag_of))
    }

    /// A tag's users, each with its name and where it sits (as `member_place` gives it, for range
    /// checks), and its parties. Read in a few queries whatever the tag's size (up to 30000).
    pub async fn tag_members(&self, corpid: &str, tagid: i64) -> Result<TagMembers> {
        // Everything keyed by the tag's own users: their rows, departments and tags.
        let of_tag = "JOIN tag_users t ON t.corpid = x.corpid AND t.userid_key = x.userid_key WHERE t.corpid = $1 AND t.tagid = $2";
        let query = |sql: String| async move { sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(tagid).fetch_all(&self.read).await };
        let members =
            query(format!("SELECT x.userid_key, x.userid, x.name, x.active FROM members x {of_tag} ORDER BY x.userid_key")).await?;
        let mut departments: HashMap<String, Vec<i64>> = HashMap::new();
        for r in query(format!("SELECT x.userid_key, x.department_id FROM member_departments x {of_tag}")).await? {
            departments.entry(r.get(0)).or_default().push(r.get(1));
        }
        let mut direct_tags: HashMap<String, Vec<i64>> = HashMap::new();
        for r in query(format!("SELECT x.userid_key, x.tagid FROM tag_users x {of_tag}")).await? {
            direct_tags.entry(r.get(0)).or_default().push(r.get(1));
        }
        let parents: HashMap<i64, i64> = sqlx::query("SELECT id, parentid FROM departments WHERE corpid = $1")
            .bind(corpid)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let party_tags: Vec<(i64, i64)> = sqlx::query("SELECT tagid, department_id FROM tag_parties WHERE corpid = $1")
            .bind(corpid)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let users = members
            .iter()
            .map(|r| {
                let key: String = r.get("userid_key");
                let mut depts = Vec::new();
                for &d in departments.get(&key).into_iter().flatten() {
                    let mut at = d;
                    // Up to the root (parentid 0); a department's depth is small, a cycle impossible.
                    while at != 0 && !depts.contains(&at) {
                        depts.push(at);
                        at = parents.get(&at).copied().unwrap_or(0);
                    }
                }
                depts.sort_unstable();
                let mut tags = direct_tags.remove(&key).unwrap_or_default();
                tags.extend(party_tags.iter().filter(|(_, d)| depts.contains(d)).map(|(t, _)| *t));
                tags.sort_unstable();
                tags.dedup();
                let place = MemberPlace { userid: r.get("userid"), active: r.get::<i64, _>("active") != 0, departments: depts, tags };
                (place, r.get("name"))
            })
            .collect();
        let parties = sqlx::query("SELECT department_id FROM tag_parties WHERE corpid = $1 AND tagid = $2 ORDER BY department_id")
            .bind(corpid)
            .bind(tagid)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(TagMembers { users, parties })
    }

    /// Creates a tag owned by `owner`; a 管理组's own tag is also visible to it (group_tags).
    pub async fn create_tag(&self, corpid: &str, asked: Option<i64>, tagname: &str, owner: Scope) -> Result<Rule<i64>> {
        let mut tx = self.write.begin().await?;
        self.lock_tags(&mut tx, corpid).await?;
        if name_taken(&mut tx, corpid, tagname, None).await? {
            return Ok(Err(Errcode::InvalidTagName));
        }
        let taken = match asked {
            Some(id) => load_tag(&mut tx, corpid, id).await?.is_some(),
            None => false,
        };
        let max: Option<i64> = sqlx::query("SELECT MAX(tagid) FROM tags WHERE corpid = $1").bind(corpid).fetch_one(&mut *tx).await?.get(0);
        let tagid = match new_tagid(asked, taken, max) {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        sqlx::query("INSERT INTO tags (corpid, tagid, tagname, owner, locked) VALUES ($1, $2, $3, $4, 1)")
            .bind(corpid)
            .bind(tagid)
            .bind(tagname)
            .bind(owner.owner_key())
            .execute(&mut *tx)
            .await?;
        if let Scope::Group { groupid } = owner {
            sqlx::query("INSERT INTO group_tags (corpid, groupid, tagid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(corpid)
                .bind(groupid)
                .bind(tagid)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(tagid))
    }

    /// Renames a tag if `may` allows it and no other tag has the name.
    pub async fn rename_tag(&self, corpid: &str, tagid: i64, tagname: &str, may: impl FnOnce(&Tag) -> Rule<()>) -> Result<Rule<()>> {
        let mut tx = match self.begin_on_tag(corpid, tagid, |t, _| may(t)).await? {
            Ok(tx) => tx,
            Err(e) => return Ok(Err(e)),
        };
        if name_taken(&mut tx, corpid, tagname, Some(tagid)).await? {
            return Ok(Err(Errcode::InvalidTagName));
        }
        sqlx::query("UPDATE tags SET tagname = $1 WHERE corpid = $2 AND tagid = $3")
            .bind(tagname)
            .bind(corpid)
            .bind(tagid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Deletes a tag with its users, parties and group grants if `may` (given the tag and whether
    /// it still has users or parties) allows it.
    pub async fn delete_tag(&self, corpid: &str, tagid: i64, may: impl FnOnce(&Tag, bool) -> Rule<()>) -> Result<Rule<()>> {
        let mut tx = match self.begin_on_tag(corpid, tagid, |t, nodes| may(t, nodes > 0)).await? {
            Ok(tx) => tx,
            Err(e) => return Ok(Err(e)),
        };
        for table in ["tag_users", "tag_parties", "group_tags", "tags"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE corpid = $1 AND tagid = $2")))
                .bind(corpid)
                .bind(tagid)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Adds or removes users and parties if `may` allows it, keeping a tag within 30000 nodes, and
    /// records update_tag with what actually changed (nothing changed, no event).
    pub async fn change_tag_members(
        &self,
        corpid: &str,
        tagid: i64,
        change: MemberChange<'_>,
        caller: Scope,
        now: i64,
        may: impl FnOnce(&Tag) -> Rule<()>,
    ) -> Result<Rule<()>> {
        let mut tx = match self.begin_on_tag(corpid, tagid, |t, _| may(t)).await? {
            Ok(tx) => tx,
            Err(e) => return Ok(Err(e)),
        };
        // The caller named users or parties, and none of them was valid.
        if change.users.is_empty() && change.parties.is_empty() {
            return Ok(Err(all_invalid(change.add)));
        }
        let mut users = Vec::new();
        for userid in change.users {
            let sql = if change.add {
                "INSERT INTO tag_users (corpid, tagid, userid_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            } else {
                "DELETE FROM tag_users WHERE corpid = $1 AND tagid = $2 AND userid_key = $3"
            };
            let done = sqlx::query(sql).bind(corpid).bind(tagid).bind(userid.to_lowercase()).execute(&mut *tx).await?;
            if done.rows_affected() > 0 {
                users.push(userid.as_str());
            }
        }
        let mut parties = Vec::new();
        for &id in change.parties {
            let sql = if change.add {
                "INSERT INTO tag_parties (corpid, tagid, department_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            } else {
                "DELETE FROM tag_parties WHERE corpid = $1 AND tagid = $2 AND department_id = $3"
            };
            if sqlx::query(sql).bind(corpid).bind(tagid).bind(id).execute(&mut *tx).await?.rows_affected() > 0 {
                parties.push(id);
            }
        }
        if change.add {
            if let Err(e) = check_tag_size(nodes(&mut tx, corpid, tagid).await?) {
                return Ok(Err(e));
            }
        }
        if !users.is_empty() || !parties.is_empty() {
            let (user_items, party_items) = if change.add { ("AddUserItems", "AddPartyItems") } else { ("DelUserItems", "DelPartyItems") };
            let mut event = ChangeContact::new(ChangeType::UpdateTag).item("TagId", tagid);
            if !users.is_empty() {
                event = event.list(user_items, &users);
            }
            if !parties.is_empty() {
                event = event.list(party_items, &parties);
            }
            record_change(&mut tx, corpid, Origin::Caller(caller), &event, now).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Opens a write on one existing tag (else 40068) that `may` (given the tag and how many users
    /// and parties it holds) allows.
    async fn begin_on_tag(
        &self,
        corpid: &str,
        tagid: i64,
        may: impl FnOnce(&Tag, usize) -> Rule<()>,
    ) -> Result<Rule<Transaction<'static, Any>>> {
        let mut tx = self.write.begin().await?;
        self.lock_tags(&mut tx, corpid).await?;
        let Some(tag) = load_tag(&mut tx, corpid, tagid).await? else { return Ok(Err(Errcode::InvalidTagid)) };
        let nodes = nodes(&mut tx, corpid, tagid).await?;
        Ok(may(&tag, nodes).map(|()| tx))
    }

    /// Serialises a corp's tag writes (unique names, max+1 ids, the 30000 cap). SQLite's single
    /// writer connection already does.
    async fn lock_tags(&self, tx: &mut Transaction<'static, Any>, corpid: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT corpid FROM corps WHERE corpid = $1 FOR UPDATE").bind(corpid).fetch_optional(&mut **tx).await?;
        }
        Ok(())
    }
}

async fn load_tag(tx: &mut Transaction<'static, Any>, corpid: &str, tagid: i64) -> Result<Option<Tag>> {
    let sql = format!("{TAG_COLUMNS} AND tagid = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(tagid).fetch_optional(&mut **tx).await?;
    Ok(row.as_ref().map(tag_of))
}

async fn name_taken(tx: &mut Transaction<'static, Any>, corpid: &str, tagname: &str, except: Option<i64>) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM tags WHERE corpid = $1 AND tagname = $2 AND tagid <> $3")
        .bind(corpid)
        .bind(tagname)
        .bind(except.unwrap_or(-1))
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}

/// Users and parties in a tag.
async fn nodes(tx: &mut Transaction<'static, Any>, corpid: &str, tagid: i64) -> Result<usize> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM tag_users WHERE corpid = $1 AND tagid = $2) + (SELECT COUNT(*) FROM tag_parties WHERE corpid = $1 AND tagid = $2)",
    )
    .bind(corpid)
    .bind(tagid)
    .fetch_one(&mut **tx)
    .await?;
    Ok(usize::try_from(row.get::<i64, _>(0)).unwrap_or(0))
}
