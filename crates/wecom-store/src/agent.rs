//! Apps as agent/get shows them: the attributes both dialects read and agent/set, seeds and the
//! control API write (the app rows themselves are made in corp.rs).

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use wecom_model::agent::{Agent, AppType, AttributeChange, Attributes};

const AGENT_COLUMNS: &str = "SELECT agentid, name, description, square_logo_url, app_type, home_url, chat_extension_url, redirect_domain, \
     report_location_flag, isreportenter, isreportuser, closed, callback_mode FROM apps WHERE corpid = $1";

fn agent_of(r: &AnyRow) -> Agent {
    let flag = |c: &str| r.get::<i64, _>(c) != 0;
    Agent {
        agentid: r.get("agentid"),
        name: r.get("name"),
        description: r.get("description"),
        attributes: Attributes {
            square_logo_url: r.get("square_logo_url"),
            app_type: AppType::try_from(r.get::<i64, _>("app_type")).unwrap_or(AppType::Message),
            home_url: r.get("home_url"),
            chat_extension_url: r.get("chat_extension_url"),
            redirect_domain: r.get("redirect_domain"),
            report_location_flag: r.get("report_location_flag"),
            isreportenter: flag("isreportenter"),
            isreportuser: flag("isreportuser"),
            close: flag("closed"),
            callback_mode: flag("callback_mode"),
        },
    }
}

impl Store {
    /// Every app of the corp, in agentid order.
    pub async fn agents(&self, corpid: &str) -> Result<Vec<Agent>> {
        let sql = format!("{AGENT_COLUMNS} ORDER BY agentid");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).fetch_all(&self.read).await?;
        Ok(rows.iter().map(agent_of).collect())
    }

    pub async fn agent(&self, corpid: &str, agentid: i64) -> Result<Option<Agent>> {
        let sql = format!("{AGENT_COLUMNS} AND agentid = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(agentid).fetch_optional(&self.read).await?;
        Ok(row.as_ref().map(agent_of))
    }

    /// Applies a change to an app's attributes in one transaction; `false` when there is no such app.
    pub async fn change_agent(&self, corpid: &str, agentid: i64, change: &AttributeChange) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let done = write_attributes(&mut tx, corpid, agentid, change).await?;
        tx.commit().await?;
        Ok(done)
    }
}

/// Reads the app's attributes, applies the change and writes them back; `false` when there is no
/// such app.
pub(crate) async fn write_attributes(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    agentid: i64,
    change: &AttributeChange,
) -> Result<bool> {
    let sql = format!("{AGENT_COLUMNS} AND agentid = $2");
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).bind(agentid).fetch_optional(&mut **tx).await? else {
        return Ok(false);
    };
    let mut agent = agent_of(&row);
    change.apply(&mut agent.attributes);
    let name = change.name.clone().unwrap_or(agent.name);
    let description = change.description.clone().unwrap_or(agent.description);
    let a = agent.attributes;
    sqlx::query(
        "UPDATE apps SET name = $3, description = $4, square_logo_url = $5, app_type = $6, home_url = $7, chat_extension_url = $8, \
         redirect_domain = $9, report_location_flag = $10, isreportenter = $11, isreportuser = $12, closed = $13, callback_mode = $14 \
         WHERE corpid = $1 AND agentid = $2",
    )
    .bind(corpid)
    .bind(agentid)
    .bind(name)
    .bind(description)
    .bind(a.square_logo_url)
    .bind(i64::from(a.app_type))
    .bind(a.home_url)
    .bind(a.chat_extension_url)
    .bind(a.redirect_domain)
    .bind(a.report_location_flag)
    .bind(i64::from(a.isreportenter))
    .bind(i64::from(a.isreportuser))
    .bind(i64::from(a.close))
    .bind(i64::from(a.callback_mode))
    .execute(&mut **tx)
    .await?;
    Ok(true)
}
