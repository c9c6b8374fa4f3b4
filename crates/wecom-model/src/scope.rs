//! Who may see which member: an app its visible range (可见范围), the contacts-sync assistant
//! everyone, a 管理组 its granted department subtrees (wecom-api.md §1.10, legacy-api.md §1.2).

use crate::credential::Scope;
use crate::Errcode;
use ipnet::IpNet;
use std::net::IpAddr;

/// Where a member sits: its departments with all their ancestors, and the tags that include it
/// (directly or through a tagged department above it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPlace {
    pub userid: String,
    /// Has the member logged in (activated)? Only then does it have an openid.
    pub active: bool,
    pub departments: Vec<i64>,
    pub tags: Vec<i64>,
}

/// What a caller can see of the directory. Serialised into a pending @all fan-out, which expands
/// the ranges the sender had when it sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Range {
    /// The contacts-sync secret: the whole corp.
    All,
    /// A self-built app's allow_user / allow_party / allow_tag.
    Visible { users: Vec<String>, parties: Vec<i64>, tags: Vec<i64> },
    /// A management group's department subtrees (read or write).
    Subtrees(Vec<i64>),
}

impl Range {
    pub fn sees(&self, m: &MemberPlace) -> bool {
        match self {
            Range::All => true,
            Range::Visible { users, parties, tags } => {
                users.iter().any(|u| u.eq_ignore_ascii_case(&m.userid))
                    || m.departments.iter().any(|d| parties.contains(d))
                    || m.tags.iter().any(|t| tags.contains(t))
            }
            Range::Subtrees(roots) => m.departments.iter().any(|d| roots.contains(d)),
        }
    }
}

impl Range {
    /// Can the caller see a department, given it and all its ancestors?
    pub fn sees_department(&self, ancestors: &[i64]) -> bool {
        match self {
            Range::All => true,
            Range::Visible { parties, .. } => ancestors.iter().any(|d| parties.contains(d)),
            Range::Subtrees(roots) => ancestors.iter().any(|d| roots.contains(d)),
        }
    }
}

/// What a caller may change in the directory: the contacts-sync assistant everything, a 管理组
/// the subtrees it holds with write rights. Self-built apps may not write (48002).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteRange {
    All,
    Subtrees(Vec<i64>),
}

impl WriteRange {
    /// May the caller change a department (or what is in it), given it and all its ancestors?
    pub fn covers(&self, ancestors: &[i64]) -> bool {
        match self {
            WriteRange::All => true,
            WriteRange::Subtrees(roots) => ancestors.iter().any(|d| roots.contains(d)),
        }
    }
}

/// Since 2022-08-15 the contacts-sync secret reads contact details (user/list, user/simplelist,
/// department/list) only from the IPs it read from before that day; from a newly added IP it gets
/// 48009 (wecom-api.md §1.9). `known` are those earlier IPs, `None` when the corp predates the rule
/// (every IP is an earlier one). Other credentials are not concerned.
pub fn check_detail_read(caller: Scope, ip: IpAddr, known: Option<&[IpNet]>) -> Result<(), Errcode> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (caller, known) {
        (Scope::ContactSync, Some(known)) if !known.iter().any(|n| n.contains(&ip)) => Err(Errcode::ContactSyncNewIp),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> MemberPlace {
        // In department 4, under 2, under the root 1; tagged 7.
        MemberPlace { userid: "ZhangSan".into(), active: true, departments: vec![4, 2, 1], tags: vec![7] }
    }

    #[test]
    fn app_ranges() {
        let m = member();
        let none = Range::Visible { users: vec![], parties: vec![], tags: vec![] };
        assert!(!none.sees(&m));
        assert!(Range::Visible { users: vec!["zhangsan".into()], parties: vec![], tags: vec![] }.sees(&m), "userids ignore case");
        assert!(Range::Visible { users: vec![], parties: vec![2], tags: vec![] }.sees(&m), "a department sees its subtree");
        assert!(!Range::Visible { users: vec![], parties: vec![3], tags: vec![] }.sees(&m));
        assert!(Range::Visible { users: vec![], parties: vec![], tags: vec![7] }.sees(&m));
        assert!(Range::All.sees(&m));
    }

    #[test]
    fn departments_and_write_rights() {
        let r = Range::Visible { users: vec![], parties: vec![2], tags: vec![] };
        assert!(r.sees_department(&[4, 2, 1]));
        assert!(!r.sees_department(&[3, 1]));
        assert!(WriteRange::Subtrees(vec![2]).covers(&[4, 2, 1]));
        assert!(!WriteRange::Subtrees(vec![2]).covers(&[1]));
        assert!(WriteRange::All.covers(&[1]));
    }

    #[test]
    fn group_subtrees() {
        let m = member();
        assert!(Range::Subtrees(vec![1]).sees(&m));
        assert!(Range::Subtrees(vec![4]).sees(&m));
        assert!(!Range::Subtrees(vec![3, 5]).sees(&m));
    }

    #[test]
    fn contact_sync_reads_details_only_from_earlier_ips() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let known = ["10.0.0.0/8".parse::<IpNet>().unwrap()];
        assert_eq!(check_detail_read(Scope::ContactSync, ip("10.1.2.3"), Some(&known)), Ok(()));
        assert_eq!(check_detail_read(Scope::ContactSync, ip("::ffff:10.1.2.3"), Some(&known)), Ok(()), "v4-mapped");
        assert_eq!(check_detail_read(Scope::ContactSync, ip("192.168.1.1"), Some(&known)), Err(Errcode::ContactSyncNewIp));
        assert_eq!(check_detail_read(Scope::ContactSync, ip("10.1.2.3"), Some(&[])), Err(Errcode::ContactSyncNewIp));
        assert_eq!(check_detail_read(Scope::ContactSync, ip("192.168.1.1"), None), Ok(()), "a corp from before the rule");
        assert_eq!(check_detail_read(Scope::App { agentid: 1000002 }, ip("192.168.1.1"), Some(&known)), Ok(()));
        assert_eq!(check_detail_read(Scope::Group { groupid: 1 }, ip("192.168.1.1"), Some(&known)), Ok(()));
    }
}
