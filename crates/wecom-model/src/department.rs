//! Department rules and views (wecom-api.md §5, legacy-api.md §4), for both dialects.
//!
//! The store keeps one neutral `sibling_rank` per department (smaller shows first). Each dialect
//! reads and writes its own `order` number through [`order_of`] / [`rank_of`]: WeCom shows the
//! bigger order first, legacy the smaller, so WeCom's order is the rank mirrored in [0, 2^32) and
//! legacy's order is the rank itself. Both are bijections on [0, 2^32): what a client writes it
//! reads back, and both dialects list siblings in the same sequence.

use crate::event::{ChangeContact, ChangeType};
use crate::scope::{Range, WriteRange};
use crate::{ApiError, Dialect, Errcode};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// The root department: made with the corp, parentid 0, never deleted or moved.
pub const ROOT: i64 = 1;
/// Seeds space siblings' ranks by this, so one can later go between two without renumbering.
pub const RANK_STEP: i64 = 1 << 16;
/// The largest order (and rank): orders are uint32 (WeCom: "[0, 2^32)").
pub const ORDER_MAX: i64 = u32::MAX as i64;
/// Levels below and including the root (81002 "部门最多15层").
pub const MAX_DEPTH: usize = 15;
/// Name length in characters (60001).
pub const NAME_MAX: usize = 32;
/// Departments in one corp, the root included ("部门总数不能超过3万个").
pub const CORP_DEPARTMENTS_MAX: usize = 30000;
const NAME_FORBIDDEN: &[char] = &['\\', ':', '*', '?', '"', '<', '>', '|'];

/// A dialect's `order` number for a rank.
pub fn order_of(dialect: Dialect, rank: i64) -> i64 {
    let rank = rank.clamp(0, ORDER_MAX);
    match dialect {
        Dialect::WeCom => ORDER_MAX - rank,
        Dialect::Legacy => rank,
    }
}

/// The rank that puts a department where `order` places it in the writer's dialect.
pub fn rank_of(dialect: Dialect, order: u32) -> i64 {
    match dialect {
        Dialect::WeCom => ORDER_MAX - i64::from(order),
        Dialect::Legacy => i64::from(order),
    }
}

/// The rank of a department created without an order. WeCom's default order is 0, which is last
/// (bigger first). 企业号 appended to the end of the siblings: one step after the last one, or
/// halfway to the largest rank when less than a step is left (it ties with the last one only when
/// no room is left at all).
pub fn default_rank(dialect: Dialect, last_sibling: Option<i64>) -> i64 {
    match dialect {
        Dialect::WeCom => rank_of(Dialect::WeCom, 0),
        Dialect::Legacy => last_sibling.map_or(RANK_STEP, |r| {
            let r = r.clamp(0, ORDER_MAX);
            r + RANK_STEP.min((ORDER_MAX - r + 1) / 2)
        }),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub id: i64,
    pub name: String,
    pub name_en: String,
    pub parentid: i64,
    pub sibling_rank: i64,
}

/// A corp's departments, as read inside the transaction that changes them.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    by_id: BTreeMap<i64, Department>,
    children: HashMap<i64, Vec<i64>>,
}

impl Tree {
    pub fn new(departments: impl IntoIterator<Item = Department>) -> Tree {
        let by_id: BTreeMap<i64, Department> = departments.into_iter().map(|d| (d.id, d)).collect();
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        for d in by_id.values() {
            if d.id != ROOT {
                children.entry(d.parentid).or_default().push(d.id);
            }
        }
        for kids in children.values_mut() {
            kids.sort_by_key(|id| (by_id[id].sibling_rank, *id));
        }
        Tree { by_id, children }
    }

    pub fn get(&self, id: i64) -> Option<&Department> {
        self.by_id.get(&id)
    }

    /// The tree after a department was created or changed (a batch job keeps one tree through
    /// the rows of a step).
    pub fn put(&mut self, d: Department) {
        self.remove(d.id);
        if d.id != ROOT {
            let kids = self.children.entry(d.parentid).or_default();
            let at = kids.partition_point(|c| (self.by_id[c].sibling_rank, *c) < (d.sibling_rank, d.id));
            kids.insert(at, d.id);
        }
        self.by_id.insert(d.id, d);
    }

    /// The tree after a department was deleted.
    pub fn remove(&mut self, id: i64) {
        if let Some(old) = self.by_id.remove(&id) {
            if let Some(kids) = self.children.get_mut(&old.parentid) {
                kids.retain(|c| *c != id);
            }
        }
    }

    /// The largest id the corp has (department/create's next id is one more).
    pub fn last_id(&self) -> i64 {
        self.by_id.keys().next_back().map_or(ROOT, |max| *max)
    }

    /// How many departments the corp has, the root included.
    pub fn count(&self) -> usize {
        self.by_id.len()
    }

    /// The department and its ancestors up to the root, nearest first.
    pub fn ancestors(&self, id: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut at = self.by_id.get(&id);
        while let Some(d) = at {
            if out.contains(&d.id) {
                break;
            }
            out.push(d.id);
            at = if d.id == ROOT { None } else { self.by_id.get(&d.parentid) };
        }
        out
    }

    /// Children in the order both dialects show them: by rank, ties by id.
    pub fn children(&self, id: i64) -> &[i64] {
        self.children.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The department and all its descendants, each before its children, siblings in order.
    pub fn subtree(&self, id: i64) -> Vec<&Department> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            if let Some(d) = self.by_id.get(&at) {
                out.push(d);
                stack.extend(self.children(at).iter().rev());
            }
        }
        out
    }

    /// How many levels the subtree under `id` spans (1 for a leaf).
    fn height(&self, id: i64) -> usize {
        1 + self.children(id).iter().map(|c| self.height(*c)).max().unwrap_or(0)
    }

    fn sibling_named(&self, parentid: i64, except: i64, pick: impl Fn(&Department) -> &str, name: &str) -> bool {
        !name.is_empty() && self.children(parentid).iter().any(|c| *c != except && pick(&self.by_id[c]) == name)
    }
}

/// department/create's body. Required fields are `Option` so their absence gets the platform's
/// errcode; numbers are uint32, so a negative or oversized one is an unreadable body.
#[derive(Debug, Default, Deserialize)]
pub struct Create {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub parentid: Option<u32>,
    pub order: Option<u32>,
    pub id: Option<u32>,
}

/// department/update's body: `id` required, the rest unchanged when absent.
#[derive(Debug, Default, Deserialize)]
pub struct Update {
    pub id: Option<u32>,
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub parentid: Option<u32>,
    pub order: Option<u32>,
}

/// A write to make, with the change_contact event it causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub department: Department,
    pub event: ChangeContact,
}

fn check_name(name: &str) -> Result<(), Errcode> {
    let len = name.chars().count();
    if len == 0 || len > NAME_MAX {
        return Err(Errcode::InvalidDepartmentNameSize);
    }
    if name.contains(NAME_FORBIDDEN) {
        return Err(Errcode::InvalidDepartmentName);
    }
    Ok(())
}

/// name_en is optional: empty means none.
fn check_name_en(name_en: &str) -> Result<(), Errcode> {
    if name_en.is_empty() {
        Ok(())
    } else {
        check_name(name_en)
    }
}

/// A required number that is absent. WeCom answers 40058 naming the field; the 企业号 backend
/// read an absent number as 0, which names no department (60003) or no parent (60004).
fn missing(dialect: Dialect, field: &str) -> ApiError {
    match (dialect, field) {
        (Dialect::WeCom, _) => ApiError::with_detail(Errcode::InvalidRequestParameter, format_args!("{field} missing")),
        (Dialect::Legacy, "parentid") => Errcode::ParentDepartmentNotFound.into(),
        (Dialect::Legacy, _) => Errcode::DepartmentNotFound.into(),
    }
}

/// The department id in a query (`?id=2`): required for get/delete. Not a uint32 is treated as
/// absent in both dialects' codes.
pub fn query_id(dialect: Dialect, raw: Option<&str>) -> Result<i64, ApiError> {
    optional_query_id(dialect, raw)?.ok_or_else(|| missing(dialect, "id"))
}

/// The optional `id` of list/simplelist; an empty value means none.
pub fn optional_query_id(dialect: Dialect, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<u32>() {
            Ok(id) => Ok(Some(i64::from(id))),
            Err(_) => match dialect {
                Dialect::WeCom => Err(ApiError::with_detail(Errcode::InvalidRequestParameter, format_args!("id `{s}` is not a uint32"))),
                Dialect::Legacy => Err(Errcode::DepartmentNotFound.into()),
            },
        },
    }
}

fn too_deep(dialect: Dialect) -> Errcode {
    match dialect {
        Dialect::WeCom => Errcode::DepartmentTooDeep,
        // 企业号's own code for the same limit.
        Dialect::Legacy => Errcode::DepartmentLevelTooDeep,
    }
}

/// Validates a create and makes the department, checking in the platform's order: formats, the
/// parent, the caller's rights, then uniqueness and depth.
pub fn plan_create(tree: &Tree, body: &Create, dialect: Dialect, write: &WriteRange) -> Result<Planned, ApiError> {
    let name = body.name.as_deref().unwrap_or("");
    check_name(name)?;
    let name_en = body.name_en.as_deref().unwrap_or("");
    check_name_en(name_en)?;
    let parentid = i64::from(body.parentid.ok_or_else(|| missing(dialect, "parentid"))?);
    let parent_line = tree.ancestors(parentid);
    if parent_line.is_empty() {
        return Err(Errcode::ParentDepartmentNotFound.into());
    }
    if !write.covers(&parent_line) {
        return Err(Errcode::NoPrivilege.into());
    }
    // id 0 is read as "not given", as the platform's uint32 default.
    let id = match body.id.map(i64::from).filter(|id| *id != 0) {
        Some(id) if id <= ROOT || tree.get(id).is_some() => return Err(Errcode::DepartmentExisted.into()),
        Some(id) => id,
        None => tree.last_id() + 1,
    };
    if id > ORDER_MAX {
        return Err(Errcode::DepartmentExisted.into());
    }
    if tree.sibling_named(parentid, id, |d| &d.name, name) || tree.sibling_named(parentid, id, |d| &d.name_en, name_en) {
        return Err(Errcode::DepartmentExisted.into());
    }
    if parent_line.len() + 1 > MAX_DEPTH {
        return Err(too_deep(dialect).into());
    }
    // The corp-wide cap has no documented code of its own: the one for the per-department cap.
    if tree.count() >= CORP_DEPARTMENTS_MAX {
        return Err(Errcode::DepartmentFull.into());
    }
    let last = tree.children(parentid).last().map(|c| tree.by_id[c].sibling_rank);
    let sibling_rank = body.order.map_or_else(|| default_rank(dialect, last), |o| rank_of(dialect, o));
    let department = Department { id, name: name.to_string(), name_en: name_en.to_string(), parentid, sibling_rank };
    let event = ChangeContact::new(ChangeType::CreateParty)
        .item("Id", id)
        .item("Name", name)
        .item("ParentId", parentid)
        .item("Order", order_of(Dialect::WeCom, sibling_rank));
    Ok(Planned { department, event })
}

/// Validates an update (absent fields stay as they are). Moving needs write rights on the
/// department and on its new parent.
pub fn plan_update(tree: &Tree, body: &Update, dialect: Dialect, write: &WriteRange) -> Result<Planned, ApiError> {
    let id = i64::from(body.id.ok_or_else(|| missing(dialect, "id"))?);
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    if let Some(name_en) = &body.name_en {
        check_name_en(name_en)?;
    }
    let old = tree.get(id).ok_or(Errcode::DepartmentNotFound)?;
    let parentid = body.parentid.map_or(old.parentid, i64::from);
    let moved = parentid != old.parentid;
    if moved && (id == ROOT || tree.ancestors(parentid).contains(&id)) {
        // Every department is under the root, so moving the root is a cycle as well.
        return Err(Errcode::DepartmentCycle.into());
    }
    let parent_line = tree.ancestors(parentid);
    if moved && parent_line.is_empty() {
        return Err(Errcode::ParentDepartmentNotFound.into());
    }
    if !write.covers(&tree.ancestors(id)) || (moved && !write.covers(&parent_line)) {
        return Err(Errcode::NoPrivilege.into());
    }
    let name = body.name.clone().unwrap_or_else(|| old.name.clone());
    let name_en = body.name_en.clone().unwrap_or_else(|| old.name_en.clone());
    if id != ROOT && (tree.sibling_named(parentid, id, |d| &d.name, &name) || tree.sibling_named(parentid, id, |d| &d.name_en, &name_en)) {
        return Err(Errcode::DepartmentExisted.into());
    }
    if moved && parent_line.len() + tree.height(id) > MAX_DEPTH {
        return Err(too_deep(dialect).into());
    }
    let sibling_rank = body.order.map_or(old.sibling_rank, |o| rank_of(dialect, o));
    let mut event = ChangeContact::new(ChangeType::UpdateParty).item("Id", id);
    if name != old.name {
        event = event.item("Name", &name);
    }
    if moved {
        event = event.item("ParentId", parentid);
    }
    Ok(Planned { department: Department { id, name, name_en, parentid, sibling_rank }, event })
}

/// Validates a delete: not the root, existing, the caller's, with no children and no members.
pub fn check_delete(tree: &Tree, id: i64, has_members: bool, write: &WriteRange) -> Result<ChangeContact, ApiError> {
    if id == ROOT {
        return Err(Errcode::RootDepartmentUndeletable.into());
    }
    if tree.get(id).is_none() {
        return Err(Errcode::DepartmentNotFound.into());
    }
    if !write.covers(&tree.ancestors(id)) {
        return Err(Errcode::NoPrivilege.into());
    }
    if !tree.children(id).is_empty() {
        return Err(Errcode::DepartmentHasChildren.into());
    }
    if has_members {
        return Err(Errcode::DepartmentHasMembers.into());
    }
    Ok(ChangeContact::new(ChangeType::DeleteParty).item("Id", id))
}

/// What a read shows: with an id, that department (which the caller must see) and its
/// descendants; without, every department the caller sees. Tree order either way.
pub fn readable<'t>(tree: &'t Tree, id: Option<i64>, range: &Range) -> Result<Vec<&'t Department>, ApiError> {
    match id {
        Some(id) => {
            visible(tree, id, range)?;
            Ok(tree.subtree(id))
        }
        None => Ok(tree.subtree(ROOT).into_iter().filter(|d| range.sees_department(&tree.ancestors(d.id))).collect()),
    }
}

/// One department the caller must see (department/get).
pub fn visible<'t>(tree: &'t Tree, id: i64, range: &Range) -> Result<&'t Department, ApiError> {
    let d = tree.get(id).ok_or(Errcode::DepartmentNotFound)?;
    if !range.sees_department(&tree.ancestors(id)) {
        return Err(Errcode::NoPrivilege.into());
    }
    Ok(d)
}

/// department/list's item (and department/get's object). 企业号's list had id, name, parentid
/// and order; name_en and department_leader are WeCom's.
pub fn view(dialect: Dialect, d: &Department, leaders: &[String]) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), d.id.into());
    m.insert("name".into(), d.name.clone().into());
    if dialect == Dialect::WeCom {
        m.insert("name_en".into(), d.name_en.clone().into());
        m.insert("department_leader".into(), leaders.to_vec().into());
    }
    m.insert("parentid".into(), d.parentid.into());
    m.insert("order".into(), order_of(dialect, d.sibling_rank).into());
    Value::Object(m)
}

/// department/simplelist's item.
pub fn simple_view(dialect: Dialect, d: &Department) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), d.id.into());
    m.insert("parentid".into(), d.parentid.into());
    m.insert("order".into(), order_of(dialect, d.sibling_rank).into());
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dialect::{Legacy, WeCom};

    fn dept(id: i64, name: &str, parentid: i64, sibling_rank: i64) -> Department {
        Department { id, name: name.into(), name_en: String::new(), parentid, sibling_rank }
    }

    /// 1 ─┬─ 2 R&D ── 4 Backend
    ///    └─ 3 Sales
    fn tree() -> Tree {
        Tree::new([
            dept(1, "Corp", 0, 0),
            dept(3, "Sales", 1, 2 * RANK_STEP),
            dept(2, "R&D", 1, RANK_STEP),
            dept(4, "Backend", 2, RANK_STEP),
        ])
    }

    fn create(name: &str, parentid: u32) -> Create {
        Create { name: Some(name.into()), parentid: Some(parentid), ..Create::default() }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> i64 {
        r.unwrap_err().errcode
    }

    #[test]
    fn put_and_remove_keep_the_tree_as_new_would() {
        let mut t = tree();
        t.put(dept(5, "Ops", 1, RANK_STEP + 1));
        t.put(dept(4, "Backend", 3, 0));
        t.remove(2);
        let fresh = Tree::new([
            dept(1, "Corp", 0, 0),
            dept(3, "Sales", 1, 2 * RANK_STEP),
            dept(5, "Ops", 1, RANK_STEP + 1),
            dept(4, "Backend", 3, 0),
        ]);
        assert_eq!(t.children(1), fresh.children(1));
        assert_eq!(t.children(3), &[4]);
        assert_eq!(t.children(2), &[] as &[i64]);
        assert_eq!(t.count(), fresh.count());
    }

    #[test]
    fn orders_round_trip_and_run_opposite() {
        for o in [0u32, 1, 50, 65536, u32::MAX] {
            assert_eq!(order_of(WeCom, rank_of(WeCom, o)), i64::from(o));
            assert_eq!(order_of(Legacy, rank_of(Legacy, o)), i64::from(o));
        }
        // Bigger WeCom order = smaller rank = shown first; smaller legacy order = shown first.
        assert!(rank_of(WeCom, 200) < rank_of(WeCom, 100));
        assert!(rank_of(Legacy, 1) < rank_of(Legacy, 2));
        // One rank, two numbers, opposite directions.
        assert_eq!(order_of(Legacy, RANK_STEP), RANK_STEP);
        assert_eq!(order_of(WeCom, RANK_STEP), ORDER_MAX - RANK_STEP);
        assert!(order_of(WeCom, RANK_STEP) > order_of(WeCom, 2 * RANK_STEP));
        assert!(order_of(Legacy, RANK_STEP) < order_of(Legacy, 2 * RANK_STEP));
        assert_eq!(order_of(WeCom, -5), ORDER_MAX, "ranks outside [0, 2^32) are clamped");
    }

    #[test]
    fn default_order_is_last_in_both_dialects() {
        assert_eq!(order_of(WeCom, default_rank(WeCom, Some(RANK_STEP))), 0);
        assert_eq!(default_rank(Legacy, Some(2 * RANK_STEP)), 3 * RANK_STEP);
        assert_eq!(default_rank(Legacy, None), RANK_STEP);
        assert_eq!(default_rank(Legacy, Some(ORDER_MAX - 50)), ORDER_MAX - 25, "halfway when less than a step is left");
        assert_eq!(default_rank(Legacy, Some(ORDER_MAX - 1)), ORDER_MAX);
        assert_eq!(default_rank(Legacy, Some(ORDER_MAX)), ORDER_MAX);
    }

    #[test]
    fn wecom_and_legacy_orders_place_by_their_own_rule() {
        let t = Tree::new([dept(1, "Corp", 0, 0), dept(2, "A", 1, rank_of(WeCom, 50)), dept(3, "B", 1, rank_of(WeCom, 200))]);
        assert_eq!(t.children(1), &[3, 2], "WeCom 200 before 50");
        let p = plan_create(&t, &Create { order: Some(100), ..create("C", 1) }, WeCom, &WriteRange::All).unwrap();
        let t2 = Tree::new(t.by_id.values().cloned().chain([p.department]));
        assert_eq!(t2.children(1), &[3, 4, 2], "WeCom 100 between 200 and 50");
        let p = plan_create(&t2, &Create { order: Some(1), ..create("D", 1) }, Legacy, &WriteRange::All).unwrap();
        let t3 = Tree::new(t2.by_id.values().cloned().chain([p.department]));
        assert_eq!(t3.children(1)[0], 5, "legacy 1 first");
        let p = plan_create(&t3, &create("E", 1), Legacy, &WriteRange::All).unwrap();
        let t4 = Tree::new(t3.by_id.values().cloned().chain([p.department]));
        assert_eq!(*t4.children(1).last().unwrap(), 6, "legacy default appends");
    }

    #[test]
    fn names() {
        let t = tree();
        let w = WriteRange::All;
        assert_eq!(code(plan_create(&t, &create("", 1), WeCom, &w)), 60001);
        assert_eq!(code(plan_create(&t, &Create { parentid: Some(1), ..Create::default() }, Legacy, &w)), 60001);
        assert!(plan_create(&t, &create(&"字".repeat(32), 1), WeCom, &w).is_ok(), "32 characters, not bytes");
        assert_eq!(code(plan_create(&t, &create(&"a".repeat(33), 1), WeCom, &w)), 60001);
        for bad in ["a\\b", "a:b", "a*b", "a?b", "a\"b", "a<b", "a>b", "a|b"] {
            assert_eq!(code(plan_create(&t, &create(bad, 1), WeCom, &w)), 60009, "{bad}");
        }
        assert_eq!(code(plan_create(&t, &create("Sales", 1), WeCom, &w)), 60008, "sibling name taken");
        assert!(plan_create(&t, &create("Sales", 2), WeCom, &w).is_ok(), "only among siblings");
        let en = Create { name_en: Some("a|b".into()), ..create("X", 1) };
        assert_eq!(code(plan_create(&t, &en, WeCom, &w)), 60009);
        let t = Tree::new([dept(1, "Corp", 0, 0), Department { name_en: "RD".into(), ..dept(2, "R&D", 1, 1) }]);
        assert_eq!(code(plan_create(&t, &Create { name_en: Some("RD".into()), ..create("X", 1) }, WeCom, &w)), 60008);
    }

    #[test]
    fn ids_and_parents() {
        let t = tree();
        let w = WriteRange::All;
        assert_eq!(plan_create(&t, &create("X", 1), WeCom, &w).unwrap().department.id, 5, "next free id");
        assert_eq!(plan_create(&t, &Create { id: Some(0), ..create("X", 1) }, WeCom, &w).unwrap().department.id, 5);
        assert_eq!(plan_create(&t, &Create { id: Some(100), ..create("X", 1) }, WeCom, &w).unwrap().department.id, 100);
        assert_eq!(code(plan_create(&t, &Create { id: Some(2), ..create("X", 1) }, WeCom, &w)), 60008);
        assert_eq!(code(plan_create(&t, &Create { id: Some(1), ..create("X", 1) }, WeCom, &w)), 60008);
        assert_eq!(code(plan_create(&t, &create("X", 9), WeCom, &w)), 60004);
        let no_parent = Create { name: Some("X".into()), ..Create::default() };
        assert_eq!(code(plan_create(&t, &no_parent, WeCom, &w)), 40058);
        assert_eq!(code(plan_create(&t, &no_parent, Legacy, &w)), 60004);
    }

    #[test]
    fn create_event_carries_the_wecom_order() {
        let p = plan_create(&tree(), &Create { order: Some(7), ..create("X", 2) }, Legacy, &WriteRange::All).unwrap();
        let items: Vec<(&str, &str)> = p.event.items.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let order = (ORDER_MAX - 7).to_string();
        assert_eq!(items, vec![("Id", "5"), ("Name", "X"), ("ParentId", "2"), ("Order", order.as_str())]);
        assert_eq!(p.event.change_type, ChangeType::CreateParty);
    }

    #[test]
    fn depth_is_at_most_15_levels() {
        // A chain 1 → 2 → … → 15: fifteen levels.
        let t = Tree::new((1..=15).map(|id| dept(id, &format!("d{id}"), id - 1, 1)));
        assert_eq!(t.ancestors(15).len(), 15);
        assert!(plan_create(&t, &create("x", 14), WeCom, &WriteRange::All).is_ok());
        assert_eq!(code(plan_create(&t, &create("x", 15), WeCom, &WriteRange::All)), 81002);
        assert_eq!(code(plan_create(&t, &create("x", 15), Legacy, &WriteRange::All)), 60002);
        // Moving a two-level subtree under level 14 makes 16 levels.
        let t = Tree::new((1..=14).map(|id| dept(id, &format!("d{id}"), id - 1, 1)).chain([dept(20, "a", 1, 2), dept(21, "b", 20, 1)]));
        let up = |parentid| Update { id: Some(20), parentid: Some(parentid), ..Update::default() };
        assert_eq!(code(plan_update(&t, &up(14), WeCom, &WriteRange::All)), 81002);
        assert!(plan_update(&t, &up(13), WeCom, &WriteRange::All).is_ok());
    }

    #[test]
    fn at_most_30000_departments_in_a_corp() {
        // The root and 29999 under it: full. One fewer: one more fits.
        let full = Tree::new([dept(1, "Corp", 0, 0)].into_iter().chain((2..=30000).map(|id| dept(id, &format!("d{id}"), 1, id))));
        assert_eq!(full.count(), CORP_DEPARTMENTS_MAX);
        assert_eq!(code(plan_create(&full, &create("x", 1), WeCom, &WriteRange::All)), 81001);
        assert_eq!(code(plan_create(&full, &create("x", 1), Legacy, &WriteRange::All)), 81001);
        let room = Tree::new([dept(1, "Corp", 0, 0)].into_iter().chain((2..30000).map(|id| dept(id, &format!("d{id}"), 1, id))));
        assert!(plan_create(&room, &create("x", 1), WeCom, &WriteRange::All).is_ok());
        // Moves do not change the count.
        let up = Update { id: Some(5), parentid: Some(4), ..Update::default() };
        assert!(plan_update(&full, &up, WeCom, &WriteRange::All).is_ok());
    }

    #[test]
    fn updates() {
        let t = tree();
        let w = WriteRange::All;
        let up = |u: Update| plan_update(&t, &u, WeCom, &w);
        assert_eq!(code(up(Update::default())), 40058);
        assert_eq!(code(plan_update(&t, &Update::default(), Legacy, &w)), 60003);
        assert_eq!(code(up(Update { id: Some(9), ..Update::default() })), 60003);
        assert_eq!(code(up(Update { id: Some(2), parentid: Some(4), ..Update::default() })), 60010, "under its own child");
        assert_eq!(code(up(Update { id: Some(2), parentid: Some(2), ..Update::default() })), 60010, "under itself");
        assert_eq!(code(up(Update { id: Some(1), parentid: Some(3), ..Update::default() })), 60010, "the root stays");
        assert_eq!(code(up(Update { id: Some(2), parentid: Some(9), ..Update::default() })), 60004);
        assert_eq!(code(up(Update { id: Some(2), parentid: Some(0), ..Update::default() })), 60004);
        assert_eq!(code(up(Update { id: Some(2), name: Some("Sales".into()), ..Update::default() })), 60008);
        assert_eq!(code(up(Update { id: Some(2), name: Some("".into()), ..Update::default() })), 60001);
        // Renaming the root is allowed; it has no siblings.
        assert!(up(Update { id: Some(1), name: Some("New Corp".into()), ..Update::default() }).is_ok());

        let same = up(Update { id: Some(2), name: Some("R&D".into()), ..Update::default() }).unwrap();
        assert_eq!(same.department, t.get(2).unwrap().clone(), "nothing changes");
        assert_eq!(same.event.items, vec![("Id".to_string(), "2".to_string())], "only Id when nothing changed");
        let moved = up(Update { id: Some(4), parentid: Some(3), name: Some("BE".into()), order: Some(9), ..Update::default() }).unwrap();
        assert_eq!(moved.department, Department { sibling_rank: ORDER_MAX - 9, ..dept(4, "BE", 3, 0) });
        let items: Vec<&str> = moved.event.items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(items, ["Id", "Name", "ParentId"]);
    }

    #[test]
    fn deletes() {
        let t = tree();
        let w = WriteRange::All;
        assert_eq!(code(check_delete(&t, 1, false, &w)), 60007);
        assert_eq!(code(check_delete(&t, 9, false, &w)), 60003);
        assert_eq!(code(check_delete(&t, 2, false, &w)), 60006);
        assert_eq!(code(check_delete(&t, 3, true, &w)), 60005);
        assert_eq!(check_delete(&t, 4, false, &w).unwrap().items, vec![("Id".to_string(), "4".to_string())]);
    }

    #[test]
    fn write_ranges() {
        let t = tree();
        let rnd = WriteRange::Subtrees(vec![2]);
        assert!(plan_create(&t, &create("X", 2), Legacy, &rnd).is_ok());
        assert!(plan_create(&t, &create("X", 4), Legacy, &rnd).is_ok());
        assert_eq!(code(plan_create(&t, &create("X", 1), Legacy, &rnd)), 60011);
        assert_eq!(
            code(plan_update(&t, &Update { id: Some(4), parentid: Some(3), ..Update::default() }, Legacy, &rnd)),
            60011,
            "new parent"
        );
        assert_eq!(code(plan_update(&t, &Update { id: Some(3), name: Some("S".into()), ..Update::default() }, Legacy, &rnd)), 60011);
        assert!(plan_update(&t, &Update { id: Some(4), name: Some("B".into()), ..Update::default() }, Legacy, &rnd).is_ok());
        assert_eq!(code(check_delete(&t, 3, false, &rnd)), 60011);
        assert!(check_delete(&t, 4, false, &rnd).is_ok());
    }

    #[test]
    fn reads_in_tree_order_within_the_range() {
        let t = tree();
        let ids = |r: Result<Vec<&Department>, ApiError>| r.unwrap().iter().map(|d| d.id).collect::<Vec<_>>();
        assert_eq!(ids(readable(&t, None, &Range::All)), [1, 2, 4, 3]);
        assert_eq!(ids(readable(&t, Some(2), &Range::All)), [2, 4]);
        let rnd = Range::Subtrees(vec![2]);
        assert_eq!(ids(readable(&t, None, &rnd)), [2, 4]);
        assert_eq!(ids(readable(&t, Some(4), &rnd)), [4]);
        assert_eq!(code(readable(&t, Some(3), &rnd)), 60011);
        assert_eq!(code(readable(&t, Some(1), &rnd)), 60011);
        assert_eq!(code(readable(&t, Some(9), &Range::All)), 60003);
        assert_eq!(visible(&t, 4, &rnd).unwrap().id, 4);
        assert_eq!(code(visible(&t, 3, &rnd)), 60011);
        assert_eq!(code(visible(&t, 9, &rnd)), 60003);
    }

    #[test]
    fn views_per_dialect() {
        let d = Department { name_en: "RD".into(), ..dept(2, "R&D", 1, RANK_STEP) };
        let leaders = vec!["zhangsan".to_string()];
        assert_eq!(
            view(WeCom, &d, &leaders),
            serde_json::json!({"id":2,"name":"R&D","name_en":"RD","department_leader":["zhangsan"],"parentid":1,"order":ORDER_MAX - RANK_STEP})
        );
        assert_eq!(view(Legacy, &d, &leaders), serde_json::json!({"id":2,"name":"R&D","parentid":1,"order":RANK_STEP}));
        assert_eq!(simple_view(Legacy, &d), serde_json::json!({"id":2,"parentid":1,"order":RANK_STEP}));
    }

    #[test]
    fn query_ids() {
        assert_eq!(query_id(WeCom, Some("2")), Ok(2));
        assert_eq!(query_id(WeCom, None).unwrap_err().errcode, 40058);
        assert_eq!(query_id(Legacy, None).unwrap_err().errcode, 60003);
        assert_eq!(query_id(WeCom, Some("x")).unwrap_err().errcode, 40058);
        assert_eq!(query_id(Legacy, Some("-1")).unwrap_err().errcode, 60003);
        assert_eq!(optional_query_id(WeCom, Some("")), Ok(None));
    }
}
