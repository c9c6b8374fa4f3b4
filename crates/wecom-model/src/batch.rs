//! Asynchronous batch jobs (wecom-api.md §7, legacy-api.md §3.6): what batch/syncuser,
//! replaceuser, replaceparty and the 企业号's batch/inviteuser take, the CSV files they read, what
//! each row does, when a job may start, and getresult's answer in each dialect. Rows become the
//! same member bodies and department writes the contacts API makes, so every rule of those APIs
//! applies to every row.

use crate::callback::Settings;
use crate::credential::{random_url_safe, Scope};
use crate::department::{self, Tree, ROOT};
use crate::scope::WriteRange;
use crate::user::{Member, MemberBody};
use crate::{ApiError, Dialect, Errcode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// getresult answers for a corp's last 5 jobs; older ones are cleared (40089).
pub const KEPT_JOBS: i64 = 5;
/// batch/inviteuser takes up to 1000 userids and 100 departments (legacy-api.md §3.6).
pub const MAX_INVITE_USERS: usize = 1000;
pub const MAX_INVITE_PARTIES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobType {
    SyncUser,
    ReplaceUser,
    ReplaceParty,
    InviteUser,
}

impl JobType {
    /// getresult's `type` and the callback's `JobType`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::SyncUser => "sync_user",
            JobType::ReplaceUser => "replace_user",
            JobType::ReplaceParty => "replace_party",
            JobType::InviteUser => "invite_user",
        }
    }

    pub fn parse(s: &str) -> Option<JobType> {
        [JobType::SyncUser, JobType::ReplaceUser, JobType::ReplaceParty, JobType::InviteUser].into_iter().find(|t| t.as_str() == s)
    }

    /// Member imports: they read a member file, and finish by deleting the departments a
    /// replace_party left for them once those are empty.
    pub fn imports_members(self) -> bool {
        matches!(self, JobType::SyncUser | JobType::ReplaceUser)
    }
}

/// jobids look like the platform's samples (`S0MrnndvRG5fadSlLwiBqiDDbM143UqTmKP3152FZk4`):
/// 43 URL-safe characters, within the documented 64 bytes.
pub fn new_jobid() -> String {
    random_url_safe(43)
}

/// The import endpoints take the whole directory: the contacts-sync secret, or a 管理组 that
/// writes the root department. An app granted 通讯录编辑 may call only some contact APIs (48008);
/// other apps were refused before (48002, `write_range`).
pub fn may_import(scope: Scope, write: &WriteRange) -> Result<(), Errcode> {
    match scope {
        Scope::ContactSync => Ok(()),
        Scope::App { .. } => Err(Errcode::ContactEditOnly),
        Scope::Group { .. } if write.covers(&[ROOT]) => Ok(()),
        Scope::Group { .. } | Scope::Chat => Err(Errcode::NoPrivilege),
    }
}

/// The body of syncuser, replaceuser and replaceparty (which has no to_invite).
#[derive(Debug, Default, Deserialize)]
pub struct Start {
    pub media_id: Option<String>,
    /// Invitations are not sent anywhere; read so that a wrong type is refused as the body's.
    pub to_invite: Option<bool>,
    pub callback: Option<JobCallback>,
}

/// A job's own receiver of batch_job_result: the same settings as an app's (wecom-api.md §10.1).
#[derive(Debug, Default, Deserialize)]
pub struct JobCallback {
    pub url: Option<String>,
    pub token: Option<String>,
    pub encodingaeskey: Option<String>,
}

/// The receiver a job's `callback` names. All fields empty (wechatpy always sends the object)
/// means none: the result goes to the contacts-sync assistant's receiver. Anything else must be
/// valid settings (40057), which are not verified with an echo: the job pushes to them once.
pub fn job_callback(callback: Option<&JobCallback>) -> Result<Option<Settings>, ApiError> {
    let Some(c) = callback else { return Ok(None) };
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").to_string();
    let s = Settings { url: text(&c.url), token: text(&c.token), encodingaeskey: text(&c.encodingaeskey) };
    if s.url.is_empty() && s.token.is_empty() && s.encodingaeskey.is_empty() {
        return Ok(None);
    }
    s.check().map_err(|why| ApiError::with_detail(Errcode::InvalidCallbackUrl, why))?;
    Ok(Some(s))
}

/// The 企业号's batch/inviteuser body: `|`-joined lists (legacy-api.md §3.6).
#[derive(Debug, Default, Deserialize)]
pub struct Invite {
    pub touser: Option<String>,
    pub toparty: Option<String>,
    pub totag: Option<String>,
    pub invite_tips: Option<String>,
    pub callback: Option<JobCallback>,
}

/// Who an invitation job names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub users: Vec<String>,
    pub parties: Vec<i64>,
    pub tags: Vec<i64>,
}

/// Who an invitation job names: userids, department ids and tag ids. Not all empty and within
/// the limits (40035, batch/invite's code for the same mistakes); ids that are not numbers name
/// nothing.
pub fn invite_targets(body: &Invite) -> Result<Targets, ApiError> {
    let split = |v: &Option<String>| -> Vec<String> {
        v.as_deref().unwrap_or("").split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    let numbers = |v: &Option<String>| -> Vec<i64> { split(v).iter().filter_map(|s| s.parse().ok()).collect() };
    let (users, parties, tags) = (split(&body.touser), numbers(&body.toparty), numbers(&body.totag));
    if users.is_empty() && parties.is_empty() && tags.is_empty() {
        return Err(Errcode::InvalidParameter.into());
    }
    if users.len() > MAX_INVITE_USERS || parties.len() > MAX_INVITE_PARTIES {
        return Err(Errcode::InvalidParameter.into());
    }
    Ok(Targets { users, parties, tags })
}

/// How an invitation reaches a member (getresult's `invitetype`): 1 through WeChat (a verified
/// corp pushes to the member's weixinid or mobile), 2 by email. A member who already follows
/// (60119), a disabled one (60120) and one with no way to reach (60118) are not invited.
pub fn invite_type(m: &Member) -> Result<i64, Errcode> {
    if m.active {
        return Err(Errcode::AlreadyFollowed);
    }
    if !m.enable {
        return Err(Errcode::MemberDisabled);
    }
    if !m.weixinid.is_empty() || !m.mobile.is_empty() {
        Ok(1)
    } else if !m.email.is_empty() {
        Ok(2)
    } else {
        Err(Errcode::NoInviteWay)
    }
}

fn bad_file(why: impl std::fmt::Display) -> ApiError {
    ApiError::with_detail(Errcode::InvalidImportFile, why)
}

/// The text of an uploaded CSV. The docs ask for UTF-8; files saved by Excel on Chinese Windows
/// (and clients writing them with GBK) are GBK, so a file that is not UTF-8 is read as GBK. A BOM
/// is dropped. Neither → 40092.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ApiError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or_else(|| bad_file("the file is neither UTF-8 nor GBK text"))
}

/// Records of a CSV (RFC 4180 quoting; rows may be shorter than the header, as clients that leave
/// the note column out write them), cells trimmed, lines with nothing in them skipped.
fn records(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), ApiError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad_file(format!("unreadable CSV: {e}")))?;
        if record.iter().any(|c| !c.is_empty()) {
            rows.push(record.iter().map(str::to_string).collect::<Vec<_>>());
        }
    }
    let mut rows = rows.into_iter();
    let header = rows.next().ok_or_else(|| bad_file("the file is empty"))?;
    let rows: Vec<_> = rows.collect();
    if rows.is_empty() {
        return Err(bad_file("the file has no rows under its header"));
    }
    Ok((header, rows))
}

/// The member template's columns (姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,
/// 地址,座机,禁用 and its note column; older templates also had 微信号 and 英文名).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Name,
    Userid,
    Mobile,
    Email,
    Department,
    Position,
    Gender,
    IsLeader,
    Order,
    Alias,
    Address,
    Telephone,
    Disable,
    Weixinid,
    EnglishName,
}

impl Column {
    /// The column a header cell names; `None` for the note column and for columns the platform
    /// takes for extension attributes, which only exist once the admin console defines them.
    fn of_header(h: &str) -> Option<Column> {
        Some(match h {
            "姓名" => Column::Name,
            // The template says 帐号; current pages write 账号.
            "帐号" | "账号" => Column::Userid,
            "手机号" => Column::Mobile,
            "邮箱" => Column::Email,
            "所在部门" => Column::Department,
            "职位" => Column::Position,
            "性别" => Column::Gender,
            "是否部门内领导" => Column::IsLeader,
            "排序" => Column::Order,
            "别名" => Column::Alias,
            "地址" => Column::Address,
            "座机" => Column::Telephone,
            "禁用" => Column::Disable,
            "微信号" => Column::Weixinid,
            "英文名" => Column::EnglishName,
            _ => return None,
        })
    }
}

/// One row of a member file: the cells of the columns the file has, keyed by column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow(pub Vec<(Column, String)>);

impl MemberRow {
    fn cell(&self, c: Column) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == c).map(|(_, v)| v.as_str())
    }

    pub fn userid(&self) -> &str {
        self.cell(Column::Userid).unwrap_or("")
    }

    /// The user/create or user/update body this row stands for: the columns the file has, an
    /// empty cell clearing its field (the file's value is the member's). Departments, orders and
    /// leader flags are `;`-separated, one per department.
    pub fn body(&self) -> Result<MemberBody, ApiError> {
        let list =
            |s: &str| -> Vec<String> { s.split([';', '；']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect() };
        let mut b = MemberBody::default();
        for (column, cell) in &self.0 {
            let text = Some(cell.clone());
            match column {
                Column::Name => b.name = text,
                Column::Userid => b.userid = text,
                Column::Mobile => b.mobile = text,
                Column::Email => b.email = text,
                Column::Position => b.position = text,
                Column::Alias => b.alias = text,
                Column::Address => b.address = text,
                Column::Telephone => b.telephone = text,
                Column::Weixinid => b.weixinid = text,
                Column::EnglishName => b.english_name = text,
                Column::Department => {
                    let ids: Option<Vec<i64>> = list(cell).iter().map(|d| d.parse().ok()).collect();
                    b.department = Some(ids.ok_or(Errcode::InvalidDepartmentList)?);
                }
                Column::Order if cell.is_empty() => {}
                Column::Order => {
                    let orders: Option<Vec<i64>> = list(cell).iter().map(|o| o.parse().ok()).collect();
                    b.order = Some(orders.ok_or_else(|| ApiError::with_detail(Errcode::InvalidRequestParameter, "order is not a number"))?);
                }
                Column::IsLeader if cell.is_empty() => {}
                Column::IsLeader => {
                    let flags: Option<Vec<i64>> = list(cell)
                        .iter()
                        .map(|f| match f.as_str() {
                            "1" | "是" => Some(1),
                            "0" | "否" => Some(0),
                            _ => None,
                        })
                        .collect();
                    b.is_leader_in_dept =
                        Some(flags.ok_or_else(|| ApiError::with_detail(Errcode::InvalidRequestParameter, "is_leader_in_dept is 1 or 0"))?);
                }
                Column::Gender => {
                    let g = match cell.as_str() {
                        "男" | "1" => "1",
                        "女" | "2" => "2",
                        "" | "0" => "0",
                        _ => return Err(Errcode::InvalidGender.into()),
                    };
                    b.gender = Some(g.into());
                }
                Column::Disable => {
                    b.enable = Some(match cell.as_str() {
                        "" | "0" => 1,
                        "1" => 0,
                        _ => return Err(ApiError::with_detail(Errcode::InvalidRequestParameter, "禁用 is 0 or 1")),
                    })
                }
            }
        }
        Ok(b)
    }
}

/// The department a member import creates the departments it names but the corp lacks under, itself
/// a child of the root (the docs: "当填写的部门ID不存在时,会在其他(待设置部门下)新建此部门").
pub const UNPLACED: &str = "其他(待设置部门)";

impl MemberRow {
    /// The department ids the row names (cells that are not numbers are the body's 40066).
    pub fn departments(&self) -> Vec<i64> {
        self.cell(Column::Department)
            .map(|cell| cell.split([';', '；']).filter_map(|d| d.trim().parse().ok()).collect())
            .unwrap_or_default()
    }
}

/// Could department/create make a department with this id? Others stay 60123.
pub fn creatable(id: i64) -> bool {
    id > ROOT && id <= department::ORDER_MAX
}

/// The largest creatable id among the departments member rows name (0 when none): when the job
/// has to make 其他(待设置部门), its id goes above this, so no later row finds its id taken.
pub fn largest_named_department<'a>(rows: impl IntoIterator<Item = &'a MemberRow>) -> i64 {
    rows.into_iter().flat_map(MemberRow::departments).filter(|id| creatable(*id)).max().unwrap_or(0)
}

/// The corp's 其他(待设置部门): the root's child of that name.
pub fn unplaced(tree: &Tree) -> Option<i64> {
    tree.children(ROOT).iter().copied().find(|c| tree.get(*c).is_some_and(|d| d.name == UNPLACED))
}

/// The department/create bodies that place the departments a row names which the corp lacks
/// (`missing`): 其他(待设置部门) first when the root has no child of that name, then each missing
/// creatable id under it, named by its id. `largest_named` is [`largest_named_department`] of
/// the job's rows (only read when 其他(待设置部门) is to be made).
pub fn unplaced_creates(tree: &Tree, missing: &[i64], largest_named: i64) -> Vec<department::Create> {
    let mut seen = HashSet::new();
    let missing: Vec<u32> = missing
        .iter()
        .filter(|id| creatable(**id) && tree.get(**id).is_none() && seen.insert(**id))
        .filter_map(|id| u32::try_from(*id).ok())
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let mut creates = Vec::new();
    let parentid = match unplaced(tree) {
        Some(id) => id,
        None => {
            let after = tree.last_id().max(largest_named) + 1;
            // A file naming the largest id leaves none above it: department/create's next id.
            let id = if after <= department::ORDER_MAX { after } else { tree.last_id() + 1 };
            creates.push(department::Create {
                name: Some(UNPLACED.to_string()),
                parentid: Some(ROOT as u32),
                id: u32::try_from(id).ok(),
                ..Default::default()
            });
            id
        }
    };
    let parentid = u32::try_from(parentid).ok();
    creates.extend(missing.into_iter().map(|id| department::Create {
        name: Some(id.to_string()),
        parentid,
        id: Some(id),
        ..Default::default()
    }));
    creates
}

/// A member file: its rows in file order. Required columns are 姓名, 帐号, 所在部门 and a way to
/// reach the member (手机号 or 邮箱; the 企业号 also took 微信号), else 40092; a userid twice (ignoring
/// case) is 302003. Rows are checked one by one when the job runs.
pub fn read_members(text: &str, dialect: Dialect) -> Result<Vec<MemberRow>, ApiError> {
    let (header, rows) = records(text)?;
    let mut columns: Vec<(usize, Column)> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(c) = Column::of_header(h) {
            if columns.iter().any(|(_, seen)| *seen == c) {
                return Err(bad_file(format!("column {h} appears twice")));
            }
            columns.push((i, c));
        }
    }
    let has = |c: Column| columns.iter().any(|(_, k)| *k == c);
    for (c, name) in [(Column::Name, "姓名"), (Column::Userid, "帐号"), (Column::Department, "所在部门")] {
        if !has(c) {
            return Err(bad_file(format!("the required column {name} is missing")));
        }
    }
    let reach = has(Column::Mobile) || has(Column::Email) || (dialect == Dialect::Legacy && has(Column::Weixinid));
    if !reach {
        return Err(bad_file("the file has neither 手机号 nor 邮箱"));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let cells: Vec<(Column, String)> = columns.iter().map(|(i, c)| (*c, row.get(*i).cloned().unwrap_or_default())).collect();
        let row = MemberRow(cells);
        if !row.userid().is_empty() && !seen.insert(row.userid().to_lowercase()) {
            return Err(ApiError::with_detail(Errcode::DuplicateUserid, row.userid()));
        }
        out.push(row);
    }
    Ok(out)
}

/// The legacy getresult's per-member `action`: 1 updated, 2 created (Senparc's model of the 企业号
/// doc: "1 表示修改，2 表示新增").
pub const MEMBER_UPDATED: i64 = 1;
pub const MEMBER_CREATED: i64 = 2;

/// replace_party's `action` bits (wecom-api.md §7.3).
pub const PARTY_CREATE: i64 = 1;
pub const PARTY_RENAME: i64 = 2;
pub const PARTY_MOVE: i64 = 4;
pub const PARTY_REORDER: i64 = 8;

/// One row of a department file (部门名称,部门ID,父部门ID,排序). `order` is the WeCom order (larger
/// first); empty or 0 keeps the department's place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyRow {
    pub id: i64,
    pub name: String,
    pub parentid: i64,
    pub order: Option<u32>,
}

/// A department file, as rows in tree order (every parent before its children). 部门名称, 部门ID and
/// 父部门ID are required (40092); every row needs a numeric id above 0 and a name, the root (1) has
/// parent 0 and no other row does, every parent is in the file or is the root, no cycles
/// (302004); an id twice is 302006; two children of one parent with one name 302007.
pub fn read_parties(text: &str) -> Result<Vec<PartyRow>, ApiError> {
    let (header, rows) = records(text)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(name_at), Some(id_at), Some(parent_at)) = (col("部门名称"), col("部门ID"), col("父部门ID")) else {
        return Err(bad_file("the required columns are 部门名称, 部门ID and 父部门ID"));
    };
    let order_at = col("排序");
    let tree_error = |why: String| ApiError::with_detail(Errcode::InvalidOrgTree, why);
    let mut parsed = Vec::with_capacity(rows.len());
    for row in &rows {
        let cell = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
        let id: i64 = cell(id_at).parse().ok().filter(|id| *id > 0).ok_or_else(|| tree_error(format!("partyid {:?}", cell(id_at))))?;
        let parentid: i64 = cell(parent_at)
            .parse()
            .ok()
            .filter(|p| *p >= 0)
            .ok_or_else(|| tree_error(format!("parentid {:?} of {id}", cell(parent_at))))?;
        let name = cell(name_at).to_string();
        if name.is_empty() {
            return Err(tree_error(format!("partyid {id} has no name")));
        }
        if (id == ROOT) != (parentid == 0) {
            return Err(tree_error(format!("partyid {id} under {parentid}: only the root (1) has parent 0")));
        }
        let order = match order_at.map(cell).unwrap_or("") {
            "" => None,
            o => Some(o.parse::<u32>().map_err(|_| bad_file(format!("order {o:?} of {id}")))?).filter(|o| *o != 0),
        };
        parsed.push(PartyRow { id, name, parentid, order });
    }
    let mut ids = HashSet::new();
    for p in &parsed {
        if !ids.insert(p.id) {
            return Err(ApiError::with_detail(Errcode::DuplicatePartyid, p.id));
        }
    }
    let mut names = HashSet::new();
    for p in &parsed {
        if p.id != ROOT && !names.insert((p.parentid, p.name.as_str())) {
            return Err(ApiError::with_detail(Errcode::DuplicateSiblingName, &p.name));
        }
    }
    // Parents first: walk down from the root through the file's children.
    let mut children: HashMap<i64, Vec<&PartyRow>> = HashMap::new();
    for p in parsed.iter().filter(|p| p.id != ROOT) {
        if !ids.contains(&p.parentid) && p.parentid != ROOT {
            return Err(tree_error(format!("the parent {} of {} is not in the file", p.parentid, p.id)));
        }
        children.entry(p.parentid).or_default().push(p);
    }
    let mut ordered: Vec<PartyRow> = parsed.iter().filter(|p| p.id == ROOT).cloned().collect();
    let mut next = 0;
    let mut frontier = vec![ROOT];
    while let Some(at) = frontier.get(next).copied() {
        next += 1;
        for c in children.remove(&at).unwrap_or_default() {
            ordered.push(c.clone());
            frontier.push(c.id);
        }
    }
    if ordered.len() != parsed.len() {
        return Err(tree_error("the departments form a cycle".into()));
    }
    Ok(ordered)
}

/// What one department row does to the directory as it is: the action bits and, unless nothing
/// changes, the create or update the department API makes (its rules decide the rest).
pub enum PartyWrite {
    Create(department::Create),
    Update(department::Update),
    Nothing,
}

pub fn party_write(tree: &Tree, row: &PartyRow) -> (i64, PartyWrite) {
    let order = row.order;
    let Some(d) = tree.get(row.id) else {
        let create = department::Create {
            name: Some(row.name.clone()),
            name_en: None,
            parentid: u32::try_from(row.parentid).ok(),
            order,
            id: u32::try_from(row.id).ok(),
        };
        return (PARTY_CREATE, PartyWrite::Create(create));
    };
    let reorder = order.is_some_and(|o| department::rank_of(Dialect::WeCom, o) != d.sibling_rank);
    let action = [(d.name != row.name, PARTY_RENAME), (d.id != ROOT && d.parentid != row.parentid, PARTY_MOVE), (reorder, PARTY_REORDER)]
        .into_iter()
        .filter(|(changed, _)| *changed)
        .fold(0, |a, (_, bit)| a | bit);
    if action == 0 {
        return (0, PartyWrite::Nothing);
    }
    let update = department::Update {
        id: u32::try_from(row.id).ok(),
        name: (action & PARTY_RENAME != 0).then(|| row.name.clone()),
        name_en: None,
        parentid: (action & PARTY_MOVE != 0).then(|| u32::try_from(row.parentid).ok()).flatten(),
        order: order.filter(|_| action & PARTY_REORDER != 0),
    };
    (action, PartyWrite::Update(update))
}

/// The departments a replace_party deletes, children before parents: those not in the file (the
/// root never) that have no members and nothing left under them. The others not in the file stay
/// until a later member import has emptied them (the second list).
pub fn party_deletions(tree: &Tree, in_file: &HashSet<i64>, has_members: impl Fn(i64) -> bool) -> (Vec<i64>, Vec<i64>) {
    let mut deletable = Vec::new();
    let mut kept = Vec::new();
    // Post-order: the reverse of a pre-order walk puts every child before its parent.
    let walk: Vec<i64> = tree.subtree(ROOT).iter().map(|d| d.id).collect();
    let mut gone: HashSet<i64> = HashSet::new();
    for id in walk.into_iter().rev() {
        if id == ROOT || in_file.contains(&id) {
            continue;
        }
        if !has_members(id) && tree.children(id).iter().all(|c| gone.contains(c)) {
            gone.insert(id);
            deletable.push(id);
        } else {
            kept.push(id);
        }
    }
    (deletable, kept)
}

/// replace_user's deletion protection (45026): more than 50 members to delete and more than 20% of
/// those there are, or fewer than 50 and more than 80%.
pub fn deletion_protected(to_delete: i64, existing: i64) -> bool {
    (to_delete > 50 && to_delete * 5 > existing) || (to_delete < 50 && to_delete * 5 > existing * 4)
}

/// A job as getresult shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub job_type: JobType,
    pub total: i64,
    /// Rows processed.
    pub done: i64,
    pub finished: bool,
    /// wecomd's clock: when the job was started, and now.
    pub started_at: i64,
    pub now: i64,
}

impl Progress {
    /// 1 started, 2 in progress, 3 finished.
    pub fn status(&self) -> i64 {
        match (self.finished, self.done) {
            (true, _) => 3,
            (false, 0) => 1,
            _ => 2,
        }
    }

    /// 100 only once finished (the deletions after the last row take their time).
    pub fn percentage(&self) -> i64 {
        if self.finished {
            100
        } else {
            (self.done * 100 / self.total.max(1)).min(99)
        }
    }

    /// The 企业号's estimate of the minutes left, from the job's own pace so far; 0 once finished.
    fn remaintime(&self) -> i64 {
        match (self.finished, self.done) {
            (true, _) => 0,
            (false, 0) => 1,
            (false, done) => ((self.now - self.started_at).max(1) * (self.total - done) / done + 59) / 60,
        }
    }
}

/// One row's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// The userid or the partyid.
    pub key: String,
    pub action: i64,
    pub invitetype: i64,
    pub errcode: i64,
    pub errmsg: String,
}

/// getresult: status, type, total, percentage and, once the job has finished, its rows (the docs:
/// "当任务完成后此字段有效"; before, `[]`, so a client polling a large job is not sent its rows each
/// time). WeCom member rows are
/// `{userid, errcode, errmsg}`; the 企业号 also said what was done (`action`) and how long is left
/// (`remaintime`). Department rows `{action, partyid, errcode, errmsg}`, invitations `{userid,
/// invitetype, errcode, errmsg}`.
pub fn result_view(dialect: Dialect, p: &Progress, rows: &[RowResult]) -> Map<String, Value> {
    let item = |r: &RowResult| -> Value {
        match p.job_type {
            JobType::ReplaceParty => {
                json!({ "action": r.action, "partyid": r.key.parse::<i64>().unwrap_or_default(), "errcode": r.errcode, "errmsg": r.errmsg })
            }
            JobType::InviteUser => json!({ "userid": r.key, "invitetype": r.invitetype, "errcode": r.errcode, "errmsg": r.errmsg }),
            JobType::SyncUser | JobType::ReplaceUser => {
                let mut m = json!({ "userid": r.key, "errcode": r.errcode, "errmsg": r.errmsg });
                if dialect == Dialect::Legacy {
                    m["action"] = r.action.into();
                }
                m
            }
        }
    };
    let mut m = Map::new();
    m.insert("status".into(), p.status().into());
    m.insert("type".into(), p.job_type.as_str().into());
    m.insert("total".into(), p.total.into());
    m.insert("percentage".into(), p.percentage().into());
    if dialect == Dialect::Legacy {
        m.insert("remaintime".into(), p.remaintime().into());
    }
    let rows = if p.finished { rows } else { &[] };
    m.insert("result".into(), rows.iter().map(item).collect());
    m
}

/// The `<BatchJob>` elements of batch_job_result (wecom-api.md §7.4): the job-level result.
pub fn job_result_items(jobid: &str, job_type: JobType, err: &ApiError) -> Vec<(String, String)> {
    [
        ("JobId", jobid.to_string()),
        ("JobType", job_type.as_str().into()),
        ("ErrCode", err.errcode.to_string()),
        ("ErrMsg", err.text.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A successful job's result: errcode 0, "ok".
pub fn ok() -> ApiError {
    ApiError { errcode: 0, text: Cow::Borrowed("ok") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::department::Department;

    const HEADER: &str = "姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,地址,座机,禁用,禁用项说明：(0-启用;1-禁用)";

    fn members(text: &str) -> Result<Vec<MemberRow>, i64> {
        read_members(text, Dialect::WeCom).map_err(|e| e.errcode)
    }

    #[test]
    fn the_template_reads_into_member_bodies() {
        let text = format!("{HEADER}\n张三,zhangsan,13800000001,zs@example.com,1;2,产品经理,男,1;0,10;20,zs,广州,020-1234,0,\n");
        let rows = members(&text).unwrap();
        assert_eq!(rows.len(), 1);
        let b = rows[0].body().unwrap();
        assert_eq!(b.userid.as_deref(), Some("zhangsan"));
        assert_eq!(b.name.as_deref(), Some("张三"));
        assert_eq!(b.department, Some(vec![1, 2]));
        assert_eq!(b.is_leader_in_dept, Some(vec![1, 0]));
        assert_eq!(b.order, Some(vec![10, 20]));
        assert_eq!(b.gender, Some(Value::from("1")));
        assert_eq!(b.enable, Some(1));
        assert_eq!((b.telephone.as_deref(), b.address.as_deref(), b.alias.as_deref()), (Some("020-1234"), Some("广州"), Some("zs")));
        let m = crate::user::create(Dialect::WeCom, b).unwrap();
        assert_eq!(m.departments.len(), 2);
        assert!(m.departments[0].is_leader && !m.departments[1].is_leader);
    }

    #[test]
    fn only_the_columns_present_are_in_the_body() {
        let rows = members("姓名,帐号,手机号,所在部门\nLi Si,lisi,13800000002,2\n").unwrap();
        let b = rows[0].body().unwrap();
        assert_eq!((b.email, b.position, b.gender, b.enable), (None, None, None, None));
        // An empty cell of a present column clears its field; order and leader flags stay unset.
        let rows = members("姓名,帐号,邮箱,所在部门,职位,性别,排序,是否部门内领导,禁用\nA,a,a@b.cn,1,,,,,\n").unwrap();
        let b = rows[0].body().unwrap();
        assert_eq!(
            (b.position.as_deref(), b.gender, b.order, b.is_leader_in_dept, b.enable),
            (Some(""), Some(Value::from("0")), None, None, Some(1))
        );
        // Unknown columns (extension attributes) are ignored; short rows leave the rest empty.
        let rows = members("姓名,帐号,手机号,所在部门,年龄,职位\nB,b,13800000003,1\n").unwrap();
        assert_eq!(
            rows[0].0,
            vec![
                (Column::Name, "B".into()),
                (Column::Userid, "b".into()),
                (Column::Mobile, "13800000003".into()),
                (Column::Department, "1".into()),
                (Column::Position, "".into())
            ]
        );
    }

    #[test]
    fn cells_keep_the_member_rules() {
        let body = |cells: &str| {
            members(&format!("姓名,帐号,手机号,所在部门,性别,是否部门内领导,禁用\n{cells}\n")).unwrap()[0].body().map_err(|e| e.errcode)
        };
        assert_eq!(body("A,a,138,x,,,").unwrap_err(), 40066);
        assert_eq!(body("A,a,138,1,x,,").unwrap_err(), 60114);
        assert_eq!(body("A,a,138,1,女,maybe,").unwrap_err(), 40058);
        assert_eq!(body("A,a,138,1,,,2").unwrap_err(), 40058);
        assert_eq!(body("A,a,138,1,女,是,1").unwrap().enable, Some(0));
        let b = body("A,a,13800000000,1;2,,1,").unwrap();
        assert_eq!(crate::user::create(Dialect::WeCom, b).unwrap_err().errcode, 60132, "leader flags and departments differ");
        let b = body(",a,13800000000,1,,,").unwrap();
        assert_eq!(crate::user::create(Dialect::WeCom, b).unwrap_err().errcode, 60112);
    }

    #[test]
    fn file_level_errors() {
        assert_eq!(members("").unwrap_err(), 40092);
        assert_eq!(members(HEADER).unwrap_err(), 40092, "a header and no rows");
        assert_eq!(members("姓名,手机号,所在部门\nA,138,1\n").unwrap_err(), 40092, "no userid column");
        assert_eq!(members("姓名,帐号,所在部门\nA,a,1\n").unwrap_err(), 40092, "no mobile and no email");
        assert_eq!(members("姓名,帐号,帐号,邮箱,所在部门\nA,a,a,a@b.cn,1\n").unwrap_err(), 40092);
        assert_eq!(members("姓名,帐号,邮箱,所在部门\nA,ZhangSan,a@b.cn,1\nB,zhangsan,b@b.cn,1\n").unwrap_err(), 302003);
        assert!(
            read_members("姓名,帐号,微信号,所在部门\nA,a,wx_abcdef,1\n", Dialect::Legacy).is_ok(),
            "the 企业号 reached members by weixinid"
        );
    }

    #[test]
    fn quoted_fields_blank_lines_and_spaces() {
        let rows =
            members("姓名,帐号,手机号,所在部门,职位\r\n\"Wang, Wu\",wangwu, 13800000004 ,\"1;2\",\"the \"\"boss\"\"\"\r\n\r\n,,,,\r\n")
                .unwrap();
        assert_eq!(rows.len(), 1);
        let b = rows[0].body().unwrap();
        assert_eq!(b.name.as_deref(), Some("Wang, Wu"));
        assert_eq!(b.mobile.as_deref(), Some("13800000004"));
        assert_eq!(b.position.as_deref(), Some("the \"boss\""));
        assert_eq!(b.department, Some(vec![1, 2]));
    }

    #[test]
    fn encodings() {
        let text = "姓名,帐号,手机号,所在部门\n张三,zhangsan,13800000001,1\n";
        assert_eq!(decode(text.as_bytes()).unwrap(), text);
        let bom = [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat();
        assert_eq!(decode(&bom).unwrap(), text);
        let (gbk, _, bad) = encoding_rs::GBK.encode(text);
        assert!(!bad && std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode(&gbk).unwrap(), text);
        assert_eq!(decode(b"\x81\x20\xff\xfe").unwrap_err().errcode, 40092, "neither UTF-8 nor GBK");
        assert_eq!(members(&decode(&gbk).unwrap()).unwrap()[0].body().unwrap().name.as_deref(), Some("张三"));
    }

    fn parties(text: &str) -> Result<Vec<i64>, i64> {
        read_parties(text).map(|rows| rows.iter().map(|r| r.id).collect()).map_err(|e| e.errcode)
    }

    #[test]
    fn department_files_come_out_parents_first() {
        let text = "部门名称,部门ID,父部门ID,排序\nBackend,4,2,\nCorp,1,0,\nR&D,2,1,100\nSales,3,1,0\n";
        assert_eq!(parties(text).unwrap(), vec![1, 2, 3, 4]);
        let rows = read_parties(text).unwrap();
        assert_eq!(rows[1], PartyRow { id: 2, name: "R&D".into(), parentid: 1, order: Some(100) });
        assert_eq!(rows[2].order, None, "0 keeps the order");
        assert_eq!(parties("部门名称,部门ID,父部门ID\nA,2,1\n").unwrap(), vec![2], "the root row is optional");
    }

    #[test]
    fn department_file_errors() {
        let h = "部门名称,部门ID,父部门ID,排序\n";
        assert_eq!(parties("部门名称,部门ID\nA,2\n").unwrap_err(), 40092);
        assert_eq!(parties(&format!("{h}A,,1,\n")).unwrap_err(), 302004, "empty partyid");
        assert_eq!(parties(&format!("{h}A,x,1,\n")).unwrap_err(), 302004);
        assert_eq!(parties(&format!("{h},2,1,\n")).unwrap_err(), 302004, "empty name");
        assert_eq!(parties(&format!("{h}A,2,9,\n")).unwrap_err(), 302004, "parent not in the file");
        assert_eq!(parties(&format!("{h}A,2,3,\nB,3,2,\n")).unwrap_err(), 302004, "a cycle");
        assert_eq!(parties(&format!("{h}Corp,1,5,\n")).unwrap_err(), 302004, "the root's parent is 0");
        assert_eq!(parties(&format!("{h}A,2,0,\n")).unwrap_err(), 302004);
        assert_eq!(parties(&format!("{h}A,2,1,\nB,2,1,\n")).unwrap_err(), 302006);
        assert_eq!(parties(&format!("{h}A,2,1,\nA,3,1,\n")).unwrap_err(), 302007);
        assert!(parties(&format!("{h}A,2,1,\nX,3,2,\nX,4,1,\n")).is_ok(), "one name under two parents");
        assert_eq!(parties(&format!("{h}A,2,1,x\n")).unwrap_err(), 40092);
    }

    fn dept(id: i64, name: &str, parentid: i64, rank: i64) -> Department {
        Department { id, name: name.into(), name_en: String::new(), parentid, sibling_rank: rank }
    }

    #[test]
    fn party_rows_name_their_actions() {
        let tree = Tree::new([dept(1, "Corp", 0, 0), dept(2, "R&D", 1, department::rank_of(Dialect::WeCom, 10)), dept(3, "Sales", 1, 5)]);
        let row = |id, name: &str, parentid, order| PartyRow { id, name: name.into(), parentid, order };
        assert!(matches!(party_write(&tree, &row(9, "New", 1, None)), (PARTY_CREATE, PartyWrite::Create(_))));
        assert!(matches!(party_write(&tree, &row(2, "R&D", 1, None)), (0, PartyWrite::Nothing)));
        assert!(matches!(party_write(&tree, &row(2, "R&D", 1, Some(10))), (0, PartyWrite::Nothing)), "the same order");
        let (action, w) = party_write(&tree, &row(2, "RD", 3, Some(20)));
        assert_eq!(action, PARTY_RENAME | PARTY_MOVE | PARTY_REORDER);
        let PartyWrite::Update(u) = w else { panic!() };
        assert_eq!((u.id, u.name.as_deref(), u.parentid, u.order), (Some(2), Some("RD"), Some(3), Some(20)));
        assert_eq!(party_write(&tree, &row(1, "New Corp", 0, None)).0, PARTY_RENAME, "the root is renamed, never moved");
    }

    #[test]
    fn missing_departments_go_under_unplaced() {
        let text = format!("{HEADER}\nA,a,13800000001,,2;9,,,,,,,,,\nB,b,13800000002,,12；4294967296,,,,,,,,,\n");
        let rows = members(&text).unwrap();
        assert_eq!((rows[0].departments(), rows[1].departments()), (vec![2, 9], vec![12, 4294967296]));
        assert_eq!(largest_named_department(&rows), 12, "an id past uint32 could never be created");
        let view = |c: &department::Create| (c.id, c.name.clone().unwrap(), c.parentid);
        let tree = Tree::new([dept(1, "Corp", 0, 0), dept(2, "R&D", 1, 1), dept(5, "Sales", 1, 2)]);
        let creates: Vec<_> = unplaced_creates(&tree, &[9, 0, 4294967296, 9], 12).iter().map(view).collect();
        assert_eq!(
            creates,
            [(Some(13), UNPLACED.to_string(), Some(1)), (Some(9), "9".to_string(), Some(13))],
            "above every id the file names"
        );
        assert_eq!(unplaced_creates(&tree, &[1 << 40], 12).len(), 0, "nothing creatable: the row's 60123");
        assert_eq!(unplaced_creates(&tree, &[9], 0)[0].id, Some(6), "above the corp's ids");
        let tree = Tree::new([dept(1, "Corp", 0, 0), dept(7, UNPLACED, 1, 1), dept(8, UNPLACED, 7, 1)]);
        let creates: Vec<_> = unplaced_creates(&tree, &[9], 12).iter().map(view).collect();
        assert_eq!(creates, [(Some(9), "9".to_string(), Some(7))], "the root's child of that name is reused");
        let tree = Tree::new([dept(1, "Corp", 0, 0), dept(2, "R&D", 1, 1), dept(5, "Sales", 1, 2)]);
        let creates: Vec<_> = unplaced_creates(&tree, &[9], department::ORDER_MAX).iter().map(view).collect();
        assert_eq!(creates[0].0, Some(6), "no id above the largest one: the corp's next id");
        assert_eq!(creates[1].2, Some(6));
    }

    #[test]
    fn deletions_leave_non_empty_departments() {
        // 1 ─┬─ 2 ── 4 ── 5
        //    └─ 3
        let tree = Tree::new([dept(1, "C", 0, 0), dept(2, "A", 1, 1), dept(3, "B", 1, 2), dept(4, "D", 2, 1), dept(5, "E", 4, 1)]);
        let in_file: HashSet<i64> = [1, 3].into();
        assert_eq!(party_deletions(&tree, &in_file, |_| false), (vec![5, 4, 2], vec![]));
        assert_eq!(party_deletions(&tree, &in_file, |d| d == 4), (vec![5], vec![4, 2]), "4 has members: it and 2 above it stay");
        let in_file: HashSet<i64> = [1, 2, 5].into();
        assert_eq!(party_deletions(&tree, &in_file, |_| false), (vec![3], vec![4]), "4 holds 5, which the file keeps");
    }

    #[test]
    fn deletion_protection_follows_the_doc() {
        assert!(!deletion_protected(0, 0));
        assert!(deletion_protected(51, 200), "51 of 200 is over 20%");
        assert!(!deletion_protected(51, 300));
        assert!(deletion_protected(41, 50), "41 of 50 is over 80%");
        assert!(!deletion_protected(40, 50));
        assert!(!deletion_protected(50, 51), "exactly 50 is neither rule");
        assert!(deletion_protected(3, 3), "every member of a small corp");
    }

    #[test]
    fn views_per_dialect() {
        let mut p = Progress { job_type: JobType::SyncUser, total: 3, done: 0, finished: false, started_at: 100, now: 160 };
        let row = RowResult { key: "lisi".into(), action: MEMBER_CREATED, invitetype: 0, errcode: 0, errmsg: "ok".into() };
        let w = result_view(Dialect::WeCom, &p, &[]);
        assert_eq!(Value::Object(w), json!({"status":1,"type":"sync_user","total":3,"percentage":0,"result":[]}));
        p.done = 2;
        let w = result_view(Dialect::WeCom, &p, std::slice::from_ref(&row));
        assert_eq!(
            (w["status"].clone(), w["percentage"].clone(), w["result"].clone()),
            (json!(2), json!(66), json!([])),
            "rows once finished"
        );
        assert_eq!(result_view(Dialect::Legacy, &p, &[])["remaintime"], 1);
        p.done = 3;
        assert_eq!(result_view(Dialect::WeCom, &p, &[])["percentage"], 99, "not 100 before the end");
        p.finished = true;
        let w = result_view(Dialect::WeCom, &p, std::slice::from_ref(&row));
        assert_eq!(w["result"], json!([{"userid":"lisi","errcode":0,"errmsg":"ok"}]));
        let l = result_view(Dialect::Legacy, &p, std::slice::from_ref(&row));
        assert_eq!((l["status"].clone(), l["percentage"].clone(), l["remaintime"].clone()), (json!(3), json!(100), json!(0)));
        assert_eq!(l["result"][0]["action"], 2);
        p.job_type = JobType::ReplaceParty;
        let party = RowResult { key: "2".into(), action: PARTY_MOVE | PARTY_RENAME, ..row.clone() };
        assert_eq!(result_view(Dialect::WeCom, &p, &[party])["result"], json!([{"action":6,"partyid":2,"errcode":0,"errmsg":"ok"}]));
        p.job_type = JobType::InviteUser;
        let invite = RowResult { invitetype: 1, ..row };
        assert_eq!(
            result_view(Dialect::Legacy, &p, &[invite])["result"],
            json!([{"userid":"lisi","invitetype":1,"errcode":0,"errmsg":"ok"}])
        );
    }

    #[test]
    fn callbacks_rights_and_invites() {
        assert_eq!(job_callback(None).unwrap(), None);
        let empty = JobCallback { url: Some(String::new()), token: Some(String::new()), encodingaeskey: Some(String::new()) };
        assert_eq!(job_callback(Some(&empty)).unwrap(), None, "wechatpy's empty callback is none");
        let good =
            JobCallback { url: Some("http://127.0.0.1:9/cb".into()), token: Some("tok".into()), encodingaeskey: Some("a".repeat(43)) };
        assert_eq!(job_callback(Some(&good)).unwrap().unwrap().token, "tok");
        let bad = JobCallback { url: Some("ftp://x".into()), ..good };
        assert_eq!(job_callback(Some(&bad)).unwrap_err().errcode, 40057);
        assert_eq!(may_import(Scope::ContactSync, &WriteRange::All), Ok(()));
        assert_eq!(may_import(Scope::App { agentid: 1 }, &WriteRange::Subtrees(vec![1])), Err(Errcode::ContactEditOnly));
        assert_eq!(may_import(Scope::Group { groupid: 1 }, &WriteRange::Subtrees(vec![1])), Ok(()));
        assert_eq!(may_import(Scope::Group { groupid: 1 }, &WriteRange::Subtrees(vec![2])), Err(Errcode::NoPrivilege));
        let invite = |u: &str, p: &str, t: &str| Invite {
            touser: Some(u.into()),
            toparty: Some(p.into()),
            totag: Some(t.into()),
            ..Invite::default()
        };
        assert_eq!(
            invite_targets(&invite("a|b", "2|x", "")).unwrap(),
            Targets { users: vec!["a".into(), "b".into()], parties: vec![2], tags: vec![] }
        );
        assert_eq!(invite_targets(&invite("", "", "")).unwrap_err().errcode, 40035);
        assert_eq!(invite_targets(&invite(&vec!["u"; 1001].join("|"), "", "")).unwrap_err().errcode, 40035);
        let mut m = crate::user::create(
            Dialect::WeCom,
            serde_json::from_value(json!({"userid":"u","name":"U","department":[1],"email":"u@b.cn"})).unwrap(),
        )
        .unwrap();
        assert_eq!(invite_type(&m), Ok(2));
        m.mobile = "13800000000".into();
        assert_eq!(invite_type(&m), Ok(1));
        m.enable = false;
        assert_eq!(invite_type(&m), Err(Errcode::MemberDisabled));
        m.active = true;
        assert_eq!(invite_type(&m), Err(Errcode::AlreadyFollowed));
        assert_eq!(JobType::parse("replace_party"), Some(JobType::ReplaceParty));
        assert_eq!(new_jobid().len(), 43);
    }
}
