//! App menus: the `button` list of each app, as menu/create accepted it.

use crate::{json_text, Result, Store};
use serde_json::Value;
use sqlx::Row;

impl Store {
    pub async fn menu(&self, corpid: &str, agentid: i64) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT button FROM menus WHERE corpid = $1 AND agentid = $2")
            .bind(corpid)
            .bind(agentid)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.and_then(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()))
    }

    /// Replaces the app's menu (menu/create overwrites whatever was there).
    pub async fn set_menu(&self, corpid: &str, agentid: i64, button: &Value) -> Result<()> {
        sqlx::query("INSERT INTO menus (corpid, agentid, button) VALUES ($1, $2, $3) ON CONFLICT (corpid, agentid) DO UPDATE SET button = excluded.button")
            .bind(corpid)
            .bind(agentid)
            .bind(json_text(button))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn delete_menu(&self, corpid: &str, agentid: i64) -> Result<()> {
        sqlx::query("DELETE FROM menus WHERE corpid = $1 AND agentid = $2").bind(corpid).bind(agentid).execute(&self.write).await?;
        Ok(())
    }
}
