//! The 企业号's permanent material: files (written through `MediaSink` as kind `material`, so
//! uploads and downloads are those of temporary media) and mpnews article lists, both belonging
//! to (corp, agentid) and never expiring. Rules are `wecom_model::material`'s.

use crate::media::{media_of, MEDIA_COLUMNS};
use crate::tag::Rule;
use crate::{json_text, Backend, MediaRow, Result, Store};
use serde_json::Value;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use std::collections::HashMap;
use wecom_model::material::{Item, ItemBody, MaterialType, Page};

/// A permanent mpnews.
#[derive(Debug, Clone, PartialEq)]
pub struct MpnewsRow {
    pub media_id: String,
    pub agentid: i64,
    pub articles: Vec<Value>,
    pub update_time: i64,
}

/// A permanent material of either kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Material {
    File(MediaRow),
    Mpnews(MpnewsRow),
}

impl Material {
    pub fn agentid(&self) -> i64 {
        match self {
            Material::File(m) => m.agentid,
            Material::Mpnews(m) => m.agentid,
        }
    }
}

/// Complete file materials of (corp, agentid).
const FILES: &str = "FROM media WHERE corpid = $1 AND agentid = $2 AND kind = 'material' AND complete = 1";

impl Store {
    /// Inside a write: may (corp, agentid) keep one more `material_type`? Takes the app's row lock
    /// on PostgreSQL (SQLite has one writer), so racing uploads cannot pass the limit together.
    pub(crate) async fn room(
        &self,
        tx: &mut Transaction<'static, Any>,
        corpid: &str,
        agentid: i64,
        material_type: MaterialType,
    ) -> Result<Rule<()>> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1 FROM apps WHERE corpid = $1 AND agentid = $2 FOR UPDATE")
                .bind(corpid)
                .bind(agentid)
                .execute(&mut **tx)
                .await?;
        }
        let held: i64 = match material_type {
            MaterialType::Mpnews => sqlx::query("SELECT COUNT(*) FROM material_mpnews WHERE corpid = $1 AND agentid = $2")
                .bind(corpid)
                .bind(agentid)
                .fetch_one(&mut **tx)
                .await?
                .get(0),
            t => sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) {FILES} AND media_type = $3")))
                .bind(corpid)
                .bind(agentid)
                .bind(t.as_str())
                .fetch_one(&mut **tx)
                .await?
                .get(0),
        };
        Ok(material_type.check_room(held))
    }

    /// A permanent material of the corp, whichever app it belongs to.
    pub async fn material(&self, corpid: &str, media_id: &str) -> Result<Option<Material>> {
        let sql = format!("{MEDIA_COLUMNS} WHERE media_id = $1 AND corpid = $2 AND kind = 'material' AND complete = 1");
        if let Some(r) = sqlx::query(AssertSqlSafe(sql)).bind(media_id).bind(corpid).fetch_optional(&self.read).await? {
            return Ok(Some(Material::File(media_of(&r))));
        }
        let row = sqlx::query("SELECT media_id, agentid, articles, update_time FROM material_mpnews WHERE media_id = $1 AND corpid = $2")
            .bind(media_id)
            .bind(corpid)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| {
            Material::Mpnews(MpnewsRow {
                media_id: r.get("media_id"),
                agentid: r.get("agentid"),
                articles: crate::json_list(&r, "articles"),
                update_time: r.get("update_time"),
            })
        }))
    }

    /// A new mpnews of (corp, agentid), unless the app keeps 5000 already (45028).
    pub async fn add_mpnews(&self, corpid: &str, agentid: i64, media_id: &str, articles: &[Value], now: i64) -> Result<Rule<()>> {
        let mut tx = self.write.begin().await?;
        if let Err(e) = self.room(&mut tx, corpid, agentid, MaterialType::Mpnews).await? {
            return Ok(Err(e));
        }
        sqlx::query(
            "INSERT INTO material_mpnews (media_id, corpid, agentid, articles, created_at, update_time) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(media_id)
        .bind(corpid)
        .bind(agentid)
        .bind(json_text(&articles))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Replaces an mpnews's articles; false when it is gone.
    pub async fn update_mpnews(&self, corpid: &str, media_id: &str, articles: &[Value], now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE material_mpnews SET articles = $3, update_time = $4 WHERE media_id = $1 AND corpid = $2")
            .bind(media_id)
            .bind(corpid)
            .bind(json_text(&articles))
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a material: a file with its chunks, or an mpnews.
    pub async fn delete_material(&self, corpid: &str, material: &Material) -> Result<()> {
        match material {
            Material::File(m) => self.delete_media(&m.media_id).await,
            Material::Mpnews(m) => {
                sqlx::query("DELETE FROM material_mpnews WHERE media_id = $1 AND corpid = $2")
                    .bind(&m.media_id)
                    .bind(corpid)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
        }
    }

    /// How many of each type (corp, agentid) keeps.
    pub async fn material_counts(&self, corpid: &str, agentid: i64) -> Result<HashMap<MaterialType, i64>> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT media_type, COUNT(*) AS n {FILES} GROUP BY media_type")))
            .bind(corpid)
            .bind(agentid)
            .fetch_all(&self.read)
            .await?;
        let mut counts: HashMap<MaterialType, i64> = rows
            .iter()
            .filter_map(|r| MaterialType::parse(Some(&r.get::<String, _>("media_type"))).ok().map(|t| (t, r.get("n"))))
            .collect();
        let mpnews: i64 = sqlx::query("SELECT COUNT(*) FROM material_mpnews WHERE corpid = $1 AND agentid = $2")
            .bind(corpid)
            .bind(agentid)
            .fetch_one(&self.read)
            .await?
            .get(0);
        counts.insert(MaterialType::Mpnews, mpnews);
        Ok(counts)
    }

    /// batchget: how many of the type (corp, agentid) keeps, and the page asked for, oldest first.
    pub async fn materials(&self, corpid: &str, agentid: i64, page: Page) -> Result<(i64, Vec<Item>)> {
        let total = *self.material_counts(corpid, agentid).await?.get(&page.material_type).unwrap_or(&0);
        // Both queries take the same parameters: corp, app, type, count, offset.
        let sql = match page.material_type {
            MaterialType::Mpnews => "SELECT media_id, '' AS filename, articles, update_time FROM material_mpnews \
                                     WHERE corpid = $1 AND agentid = $2 AND $3 = 'mpnews'"
                .to_string(),
            _ => format!("SELECT media_id, filename, '' AS articles, created_at AS update_time {FILES} AND media_type = $3"),
        };
        let rows = sqlx::query(AssertSqlSafe(format!("{sql} ORDER BY created_at, media_id LIMIT $4 OFFSET $5")))
            .bind(corpid)
            .bind(agentid)
            .bind(page.material_type.as_str())
            .bind(page.count)
            .bind(page.offset)
            .fetch_all(&self.read)
            .await?;
        let items = rows
            .iter()
            .map(|r| Item {
                media_id: r.get("media_id"),
                update_time: r.get("update_time"),
                body: match page.material_type {
                    MaterialType::Mpnews => ItemBody::Mpnews { articles: crate::json_list(r, "articles") },
                    _ => ItemBody::File { filename: r.get("filename") },
                },
            })
            .collect();
        Ok((total, items))
    }
}
