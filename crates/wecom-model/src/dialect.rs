//! The two dialects served over one data set. Which one a caller speaks is decided by the secret
//! that minted its token (DESIGN.md, "The one idea").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// 企业微信: self-built app secrets and the contacts-sync secret.
    WeCom,
    /// 企业号: management-group (管理组) secrets.
    Legacy,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::WeCom => "wecom",
            Dialect::Legacy => "legacy",
        }
    }
}
