//! Departments (contacts): the tree as the rules read it, and writes decided by those rules inside
//! the transaction that makes them.

use crate::corp::drop_from_app_lists;
use crate::event::{record_change, Origin};
use crate::member::children_used;
use crate::{Backend, Result, Store};
use sqlx::{Any, AssertSqlSafe, Executor, Row, Transaction};
use std::collections::HashMap;
use wecom_model::department::{self, Create, Department, Tree, Update, ROOT};
use wecom_model::scope::WriteRange;
use wecom_model::user::DEPARTMENT_CAPACITY;
use wecom_model::Errcode;
use wecom_model::{ApiError, Dialect};

/// One department write as a caller asked for it.
pub enum DepartmentWrite {
    Create(Create),
    Update(Update),
    Delete(i64),
}

pub(crate) async fn tree<'e>(db: impl Executor<'e, Database = Any>, corpid: &str) -> Result<Tree> {
    let rows = sqlx::query("SELECT id, name, name_en, parentid, sibling_rank FROM departments WHERE corpid = $1")
        .bind(corpid)
        .fetch_all(db)
        .await?;
    Ok(Tree::new(rows.iter().map(|r| Department {
        id: r.get("id"),
        name: r.get("name"),
        name_en: r.get("name_en"),
        parentid: r.get("parentid"),
        sibling_rank: r.get("sibling_rank"),
    })))
}

/// Every department write in a corp takes the root's row lock first (the root is every
/// department's ancestor), then the rows it names, in id order: sibling names, ids, cycles, depth
/// and the corp's department count are then decided on a tree no one else is changing. The
/// parent's row is also the lock member writes take on the departments they fill (in id order
/// too), so the 30000 children of one department (81001) are counted by one writer
/// at a time whichever kind it is. SQLite's single writer connection already serialises writers.
pub(crate) async fn lock(tx: &mut Transaction<'static, Any>, backend: Backend, corpid: &str, ids: &mut Vec<i64>) -> Result<()> {
    if backend == Backend::Postgres {
        ids.push(ROOT);
        ids.sort_unstable();
        ids.dedup();
        for id in ids.iter() {
            sqlx::query("SELECT id FROM departments WHERE corpid = $1 AND id = $2 FOR UPDATE")
                .bind(corpid)
                .bind(*id)
                .fetch_optional(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

impl Store {
    /// A corp's departments.
    pub async fn departments(&self, corpid: &str) -> Result<Tree> {
        tree(&self.read, corpid).await
    }

    /// Userids of each department's leaders (members with is_leader in it), by department.
    pub async fn department_leaders(&self, corpid: &str) -> Result<HashMap<i64, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT md.department_id, m.userid FROM member_departments md \
             JOIN members m ON m.corpid = md.corpid AND m.userid_key = md.userid_key \
             WHERE md.corpid = $1 AND md.is_leader = 1 ORDER BY md.department_id, m.userid_key",
        )
        .bind(corpid)
        .fetch_all(&self.read)
        .await?;
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for r in rows {
            out.entry(r.get(0)).or_default().push(r.get(1));
        }
        Ok(out)
    }

    /// Creates, updates or deletes a department if the rules allow it, recording its event in the
    /// same transaction. The outer error is the database's; the inner one the platform's errcode.
    /// Answers the department's id.
    pub async fn write_department(
        &self,
        corpid: &str,
        origin: Origin,
        op: DepartmentWrite,
        dialect: Dialect,
        write: &WriteRange,
        now: i64,
    ) -> Result<Result<i64, ApiError>> {
        let mut tx = self.write.begin().await?;
        let mut named: Vec<i64> = match &op {
            DepartmentWrite::Create(c) => c.parentid.map(i64::from).into_iter().collect(),
            DepartmentWrite::Update(u) => u.id.into_iter().chain(u.parentid).map(i64::from).collect(),
            DepartmentWrite::Delete(id) => vec![*id],
        };
        lock(&mut tx, self.backend, corpid, &mut named).await?;
        let tree = tree(&mut *tx, corpid).await?;
        let applied = match apply_write(&mut tx, self.backend, corpid, origin, op, dialect, write, &tree, now).await? {
            Ok(applied) => applied,
            Err(e) => return Ok(Err(e)),
        };
        tx.commit().await?;
        Ok(Ok(applied.id()))
    }
}

/// What a department write did: the department as it is now, or the id deleted.
pub(crate) enum Applied {
    Written(Department),
    Deleted(i64),
}

impl Applied {
    fn id(&self) -> i64 {
        match self {
            Applied::Written(d) => d.id,
            Applied::Deleted(id) => *id,
        }
    }
}

/// One department write decided by the rules on `tree` (the corp's departments as locked by the
/// caller's transaction), made and recorded with its event.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_write(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    corpid: &str,
    origin: Origin,
    op: DepartmentWrite,
    dialect: Dialect,
    write: &WriteRange,
    tree: &Tree,
    now: i64,
) -> Result<Result<Applied, ApiError>> {
    let (applied, change) = match op {
        DepartmentWrite::Create(body) => {
            let plan = match department::plan_create(tree, &body, dialect, write) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let d = &plan.department;
            if children_used(tx, corpid, d.parentid).await? >= DEPARTMENT_CAPACITY {
                return Ok(Err(Errcode::DepartmentFull.into()));
            }
            sqlx::query("INSERT INTO departments (corpid, id, name, name_en, parentid, sibling_rank) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(corpid)
                .bind(d.id)
                .bind(&d.name)
                .bind(&d.name_en)
                .bind(d.parentid)
                .bind(d.sibling_rank)
                .execute(&mut **tx)
                .await?;
            (Applied::Written(plan.department.clone()), plan.event)
        }
        DepartmentWrite::Update(body) => {
            let plan = match department::plan_update(tree, &body, dialect, write) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let d = &plan.department;
            let moved = tree.get(d.id).is_some_and(|old| old.parentid != d.parentid);
            if moved && children_used(tx, corpid, d.parentid).await? >= DEPARTMENT_CAPACITY {
                return Ok(Err(Errcode::DepartmentFull.into()));
            }
            sqlx::query("UPDATE departments SET name = $1, name_en = $2, parentid = $3, sibling_rank = $4 WHERE corpid = $5 AND id = $6")
                .bind(&d.name)
                .bind(&d.name_en)
                .bind(d.parentid)
                .bind(d.sibling_rank)
                .bind(corpid)
                .bind(d.id)
                .execute(&mut **tx)
                .await?;
            (Applied::Written(plan.department.clone()), plan.event)
        }
        DepartmentWrite::Delete(id) => {
            let has_members = sqlx::query("SELECT 1 FROM member_departments WHERE corpid = $1 AND department_id = $2 LIMIT 1")
                .bind(corpid)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .is_some();
            let change = match department::check_delete(tree, id, has_members, write) {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            sqlx::query("DELETE FROM departments WHERE corpid = $1 AND id = $2").bind(corpid).bind(id).execute(&mut **tx).await?;
            // A later department given the same id must not inherit the old one's place in tags,
            // 管理组 rights, apps' visible ranges or a replace_party's pending deletions.
            for table in ["tag_parties", "group_department_rights", "batch_doomed_departments"] {
                sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE corpid = $1 AND department_id = $2")))
                    .bind(corpid)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
            drop_from_app_lists(tx, backend, corpid, "allow_parties", id).await?;
            (Applied::Deleted(id), change)
        }
    };
    record_change(tx, corpid, origin, &change, now).await?;
    Ok(Ok(applied))
}
