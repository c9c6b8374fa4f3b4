//! Tags (contacts): the tags, their users and parties. Rule failures come back as the platform's
//! errcode (the inner `Result`); the rules themselves are in `wecom_model::tag`.

use crate::contact::params;
use crate::corp::drop_from_app_lists;
use crate::department;
use crate::event::{record_change, Origin};
use crate::{Backend, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Executor, Row, Transaction};
use std::collections::{HashMap, HashSet};
use wecom_model::credential::Scope;
use wecom_model::department::Tree;
use wecom_model::event::{ChangeContact, ChangeType};
use wecom_model::scope::{MemberPlace, Range};
use wecom_model::tag::{all_invalid, check_tag_size, new_tagid, Invalid, Tag, USERLIST_MAX};
use wecom_model::Errcode;

/// Userids (or department ids) per IN list. SQLite resolves `$N` names in time quadratic in a
/// statement's parameter count, so it gets small lists; PostgreSQL takes a whole call's (1000
/// users) in one (measured with bench/tags.py: 1000-user addtagusers 64 ms on SQLite with 32 a
/// list vs 141 ms with 1000; PostgreSQL 96 ms with 1000 vs 991 ms with 32).
fn key_batch(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 32,
        Backend::Postgres => USERLIST_MAX,
    }
}

/// A rule failure inside a write: nothing was changed.
pub type Rule<T> = std::result::Result<T, Errcode>;

/// The users (where each sits, and its name) and parties of one tag, ordered by userid and id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagMembers {
    pub users: Vec<(MemberPlace, String)>,
    pub parties: Vec<i64>,
}

/// The users and parties one addtagusers/deltagusers call names, each once (userids compared
/// ignoring case), as the caller wrote them, and the range within which the caller may name them.
#[derive(Debug, Clone, Copy)]
pub struct MemberChange<'a> {
    pub add: bool,
    pub users: &'a [String],
    pub parties: &'a [i64],
    pub range: &'a Range,
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
        let query = |sql: String| async move { sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(tagid).fetch_all(&self.read).await };
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
        let tree = department::tree(&self.read, corpid).await?;
        let party_tags = party_tags(&self.read, corpid).await?;
        let users = members
            .iter()
            .map(|r| {
                let key: String = r.get("userid_key");
                let depts = departments.get(&key).map_or(&[][..], Vec::as_slice);
                let tags = direct_tags.remove(&key).unwrap_or_default();
                let place = place_of(r.get("userid"), r.get::<i64, _>("active") != 0, depts, tags, &tree, &party_tags);
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

    /// Deletes a tag with its users, parties, group grants and place in apps' visible ranges if `may` (given the tag and whether
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
        // A later tag given the same id must not inherit the apps' visible ranges.
        drop_from_app_lists(&mut tx, self.backend, corpid, "allow_tags", tagid).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Adds or removes users and parties if `may` allows it, keeping a tag within 30000 nodes, and
    /// records update_tag with what actually changed (nothing changed, no event). Which of the
    /// named users and parties exist and lie in the caller's range is decided inside the write, on rows it
    /// holds until the commit, so a member or department deleted meanwhile leaves nothing behind.
    /// Answers the named users and parties that were invalid, and the outcome.
    pub async fn change_tag_members(
        &self,
        corpid: &str,
        tagid: i64,
        change: MemberChange<'_>,
        caller: Scope,
        now: i64,
        may: impl FnOnce(&Tag) -> Rule<()>,
    ) -> Result<(Invalid, Rule<()>)> {
        let mut invalid = Invalid::default();
        // The named members' rows, then the named departments', are held until the commit, so a
        // racing delete of either waits for this write or this write sees it gone. The order
        // (members, departments, then the corp's tag lock) is the order member and department
        // writes take theirs, so none of them deadlock. SQLite's single writer connection already
        // serialises all of them.
        let batch = key_batch(self.backend);
        let (member_lock, department_lock) = match self.backend {
            Backend::Postgres => (" FOR SHARE OF m", " FOR SHARE"),
            Backend::Sqlite => ("", ""),
        };
        let mut tx = self.write.begin().await?;
        let tree = department::tree(&mut *tx, corpid).await?;
        let party_tags = party_tags(&mut *tx, corpid).await?;
        let keys: Vec<String> = change.users.iter().map(|u| u.to_lowercase()).collect();
        let places = places(&mut tx, corpid, &keys, batch, member_lock, &tree, &party_tags).await?;
        let mut departments: HashSet<i64> = HashSet::new();
        for chunk in change.parties.chunks(batch) {
            let sql = format!("SELECT id FROM departments WHERE corpid = $1 AND id IN ({}){department_lock}", params(2, chunk.len()));
            let q = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)).bind(corpid), |q, id| q.bind(*id));
            departments.extend(q.fetch_all(&mut *tx).await?.iter().map(|r| r.get::<i64, _>(0)));
        }
        if let Err(e) = self.claim_tag(&mut tx, corpid, tagid, |t, _| may(t)).await? {
            return Ok((invalid, Err(e)));
        }

        let mut users: Vec<(&str, &str)> = Vec::new();
        for (asked, key) in change.users.iter().zip(&keys) {
            match places.get(key).filter(|p| change.range.sees(p)) {
                Some(p) => users.push((key.as_str(), p.userid.as_str())),
                None => invalid.users.push(asked.clone()),
            }
        }
        let mut parties = Vec::new();
        for &id in change.parties {
            if departments.contains(&id) && change.range.sees_department(&tree.ancestors(id)) {
                parties.push(id);
            } else {
                invalid.parties.push(id);
            }
        }
        if users.is_empty() && parties.is_empty() {
            return Ok((invalid, Err(all_invalid(change.add))));
        }

        let (user_sql, party_sql) = if change.add {
            (
                "INSERT INTO tag_users (corpid, tagid, userid_key) SELECT corpid, CAST($2 AS BIGINT), userid_key FROM members \
                 WHERE corpid = $1 AND userid_key IN ({list}) ON CONFLICT DO NOTHING RETURNING userid_key",
                "INSERT INTO tag_parties (corpid, tagid, department_id) SELECT corpid, CAST($2 AS BIGINT), id FROM departments \
                 WHERE corpid = $1 AND id IN ({list}) ON CONFLICT DO NOTHING RETURNING department_id",
            )
        } else {
            (
                "DELETE FROM tag_users WHERE corpid = $1 AND tagid = $2 AND userid_key IN ({list}) RETURNING userid_key",
                "DELETE FROM tag_parties WHERE corpid = $1 AND tagid = $2 AND department_id IN ({list}) RETURNING department_id",
            )
        };
        let mut changed_users: HashSet<String> = HashSet::new();
        for chunk in users.chunks(batch) {
            let sql = user_sql.replace("{list}", &params(3, chunk.len()));
            let q = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(tagid), |q, (key, _)| q.bind(*key));
            changed_users.extend(q.fetch_all(&mut *tx).await?.iter().map(|r| r.get::<String, _>(0)));
        }
        let mut changed_parties: HashSet<i64> = HashSet::new();
        for chunk in parties.chunks(batch) {
            let sql = party_sql.replace("{list}", &params(3, chunk.len()));
            let q = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(tagid), |q, id| q.bind(*id));
            changed_parties.extend(q.fetch_all(&mut *tx).await?.iter().map(|r| r.get::<i64, _>(0)));
        }
        if change.add {
            if let Err(e) = check_tag_size(nodes(&mut tx, corpid, tagid).await?) {
                return Ok((invalid, Err(e)));
            }
        }
        // The event lists what changed, in the order the caller named it.
        let users: Vec<&str> = users.iter().filter(|(key, _)| changed_users.contains(*key)).map(|(_, userid)| *userid).collect();
        parties.retain(|id| changed_parties.contains(id));
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
        Ok((invalid, Ok(())))
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
        Ok(self.claim_tag(&mut tx, corpid, tagid, may).await?.map(|()| tx))
    }

    /// Takes the corp's tag lock in a write and checks the tag exists (else 40068) and `may`
    /// allows the write.
    async fn claim_tag(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        tagid: i64,
        may: impl FnOnce(&Tag, usize) -> Rule<()>,
    ) -> Result<Rule<()>> {
        self.lock_tags(tx, corpid).await?;
        let Some(tag) = load_tag(tx, corpid, tagid).await? else { return Ok(Err(Errcode::InvalidTagid)) };
        let nodes = nodes(tx, corpid, tagid).await?;
        Ok(may(&tag, nodes))
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

/// Which departments each tag includes, as (tagid, department_id).
async fn party_tags<'e>(db: impl Executor<'e, Database = Any>, corpid: &str) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query("SELECT tagid, department_id FROM tag_parties WHERE corpid = $1").bind(corpid).fetch_all(db).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Where a member sits: its departments with their ancestors, and its tags (its own and those of
/// any department it is in or under).
fn place_of(userid: String, active: bool, departments: &[i64], mut tags: Vec<i64>, tree: &Tree, party_tags: &[(i64, i64)]) -> MemberPlace {
    let mut depts: Vec<i64> = departments.iter().flat_map(|d| tree.ancestors(*d)).collect();
    depts.sort_unstable();
    depts.dedup();
    tags.extend(party_tags.iter().filter(|(_, d)| depts.binary_search(d).is_ok()).map(|(t, _)| *t));
    tags.sort_unstable();
    tags.dedup();
    MemberPlace { userid, active, departments: depts, tags }
}

/// Where each existing member among `keys` (userid_keys) sits, by key, in a few set queries;
/// `lock` is appended to the member rows' SELECT (`FOR SHARE OF m` in a PostgreSQL write), which
/// then locks them in key order, as every such write does.
async fn places(
    conn: &mut AnyConnection,
    corpid: &str,
    keys: &[String],
    batch: usize,
    lock: &str,
    tree: &Tree,
    party_tags: &[(i64, i64)],
) -> Result<HashMap<String, MemberPlace>> {
    let mut members: HashMap<String, (String, bool, Vec<i64>)> = HashMap::new();
    let mut tags: HashMap<String, Vec<i64>> = HashMap::new();
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    for chunk in keys.chunks(batch) {
        let list = params(2, chunk.len());
        let sql = format!(
            "SELECT m.userid_key, m.userid, m.active, md.department_id FROM members m \
             LEFT JOIN member_departments md ON md.corpid = m.corpid AND md.userid_key = m.userid_key \
             WHERE m.corpid = $1 AND m.userid_key IN ({list}) ORDER BY m.userid_key{lock}"
        );
        for r in chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)).bind(corpid), |q, k| q.bind(k)).fetch_all(&mut *conn).await? {
            let m = members.entry(r.get(0)).or_insert_with(|| (r.get(1), r.get::<i64, _>(2) != 0, Vec::new()));
            m.2.extend(r.get::<Option<i64>, _>(3));
        }
        let sql = format!("SELECT userid_key, tagid FROM tag_users WHERE corpid = $1 AND userid_key IN ({list})");
        for r in chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)).bind(corpid), |q, k| q.bind(k)).fetch_all(&mut *conn).await? {
            tags.entry(r.get(0)).or_default().push(r.get(1));
        }
    }
    Ok(members
        .into_iter()
        .map(|(key, (userid, active, depts))| {
            let own = tags.remove(&key).unwrap_or_default();
            (key, place_of(userid, active, &depts, own, tree, party_tags))
        })
        .collect())
}
