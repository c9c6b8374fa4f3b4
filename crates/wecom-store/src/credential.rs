//! Secrets and the tokens they mint.

use crate::{json_list, json_text, Backend, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use wecom_model::credential::{new_secret, Scope};
use wecom_model::token::{Issued, EXPIRES_IN};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    pub id: i64,
    pub corpid: String,
    pub scope: Scope,
    pub secret: String,
    pub trusted_ips: Vec<String>,
    /// The secret's app is disabled (agent/get `close`): its secret and tokens answer 50003.
    pub closed: bool,
}

/// A token as stored, with the credential that minted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub token: String,
    pub credential: CredentialRow,
    pub issued: Issued,
}

const CREDENTIAL_COLUMNS: &str = "c.id, c.corpid, c.owner, c.secret, c.trusted_ips, \
     COALESCE((SELECT a.closed FROM apps a WHERE a.corpid = c.corpid AND c.owner = 'app:' || CAST(a.agentid AS TEXT)), 0) AS closed";

fn credential(row: &AnyRow) -> Result<CredentialRow> {
    let owner: String = row.get("owner");
    Ok(CredentialRow {
        id: row.get("id"),
        corpid: row.get("corpid"),
        scope: Scope::parse_owner_key(&owner).ok_or_else(|| StoreError::Invalid(format!("stored credential owner {owner:?}")))?,
        secret: row.get("secret"),
        trusted_ips: json_list(row, "trusted_ips"),
        closed: row.get::<i64, _>("closed") != 0,
    })
}

impl Store {
    pub async fn credential_by_secret(&self, corpid: &str, secret: &str) -> Result<Option<CredentialRow>> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials c WHERE c.corpid = $1 AND c.secret = $2");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(secret).fetch_optional(&self.read).await?;
        row.as_ref().map(credential).transpose()
    }

    pub async fn credentials(&self, corpid: &str) -> Result<Vec<CredentialRow>> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials c WHERE c.corpid = $1 ORDER BY c.id");
        sqlx::query(AssertSqlSafe(sql)).bind(corpid).fetch_all(&self.read).await?.iter().map(credential).collect()
    }

    /// gettoken's write: under a lock on the credential, return its live token with 7200 s from
    /// `now`, or store `fresh` as the new one. `None` when the secret no longer matches (it was
    /// regenerated since it was read). Several instances racing get the same token.
    pub async fn issue_token(&self, cred: &CredentialRow, now: i64, fresh: String) -> Result<Option<String>> {
        let mut tx = self.write.begin().await?;
        let lock = match self.backend {
            Backend::Postgres => "SELECT id FROM credentials WHERE id = $1 AND secret = $2 FOR UPDATE",
            // The single writer connection already serialises SQLite writers.
            Backend::Sqlite => "SELECT id FROM credentials WHERE id = $1 AND secret = $2",
        };
        if sqlx::query(lock).bind(cred.id).bind(&cred.secret).fetch_optional(&mut *tx).await?.is_none() {
            return Ok(None);
        }
        let live = sqlx::query(
            "SELECT token FROM tokens WHERE credential_id = $1 AND revoked = 0 AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1",
        )
        .bind(cred.id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let token = match live {
            Some(row) => {
                let token: String = row.get("token");
                sqlx::query("UPDATE tokens SET expires_at = $1 WHERE token = $2")
                    .bind(now + EXPIRES_IN)
                    .bind(&token)
                    .execute(&mut *tx)
                    .await?;
                token
            }
            None => {
                sqlx::query("INSERT INTO tokens (token, credential_id, issued_at, expires_at, revoked) VALUES ($1, $2, $3, $4, 0)")
                    .bind(&fresh)
                    .bind(cred.id)
                    .bind(now)
                    .bind(now + EXPIRES_IN)
                    .execute(&mut *tx)
                    .await?;
                fresh
            }
        };
        tx.commit().await?;
        Ok(Some(token))
    }

    pub async fn token(&self, token: &str) -> Result<Option<TokenRow>> {
        let sql = format!(
            "SELECT t.token, t.expires_at, t.revoked, {CREDENTIAL_COLUMNS} FROM tokens t JOIN credentials c ON c.id = t.credential_id WHERE t.token = $1"
        );
        let Some(row) = sqlx::query(AssertSqlSafe(sql)).bind(token).fetch_optional(&self.read).await? else {
            return Ok(None);
        };
        Ok(Some(TokenRow {
            token: row.get("token"),
            credential: credential(&row)?,
            issued: Issued { expires_at: row.get("expires_at"), revoked: row.get::<i64, _>("revoked") != 0 },
        }))
    }

    /// A new secret for the holder; every token the old one minted stops working at once.
    pub async fn regenerate_secret(&self, corpid: &str, scope: Scope) -> Result<String> {
        let mut tx = self.write.begin().await?;
        let secret = new_secret();
        let id = set_secret(&mut tx, corpid, scope, &secret).await?;
        if id.is_none() {
            return Err(StoreError::NotFound(format!("corp {corpid} has no secret for {scope}")));
        }
        tx.commit().await?;
        Ok(secret)
    }

    pub async fn set_trusted_ips(&self, corpid: &str, scope: Scope, ips: &[String]) -> Result<()> {
        let done = sqlx::query("UPDATE credentials SET trusted_ips = $1 WHERE corpid = $2 AND owner = $3")
            .bind(json_text(&ips))
            .bind(corpid)
            .bind(scope.owner_key())
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("corp {corpid} has no secret for {scope}")));
        }
        Ok(())
    }
}

/// Replaces a holder's secret and revokes its tokens; the credential's id, or `None` if it has none.
async fn set_secret(tx: &mut Transaction<'static, Any>, corpid: &str, scope: Scope, secret: &str) -> Result<Option<i64>> {
    let row = sqlx::query("UPDATE credentials SET secret = $1 WHERE corpid = $2 AND owner = $3 RETURNING id")
        .bind(secret)
        .bind(corpid)
        .bind(scope.owner_key())
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| unique_secret(e, corpid))?;
    let Some(row) = row else { return Ok(None) };
    let id: i64 = row.get("id");
    sqlx::query("UPDATE tokens SET revoked = 1 WHERE credential_id = $1").bind(id).execute(&mut **tx).await?;
    Ok(Some(id))
}

/// Creates or updates a holder's credential. A given secret that differs from the stored one
/// replaces it (revoking tokens); without one, a new holder gets a generated secret and an
/// existing holder keeps its own. Returns the secret in force.
pub(crate) async fn upsert_credential(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    scope: Scope,
    secret: Option<&str>,
    trusted_ips: &[String],
    now: i64,
) -> Result<String> {
    let ips = json_text(&trusted_ips);
    let existing = sqlx::query("SELECT secret FROM credentials WHERE corpid = $1 AND owner = $2")
        .bind(corpid)
        .bind(scope.owner_key())
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.get::<String, _>("secret"));
    let secret = match (existing, secret) {
        (Some(old), Some(new)) if old != new => {
            set_secret(tx, corpid, scope, new).await?;
            new.to_string()
        }
        (Some(old), _) => old,
        (None, given) => {
            let secret = given.map(str::to_string).unwrap_or_else(new_secret);
            sqlx::query("INSERT INTO credentials (id, corpid, owner, secret, trusted_ips, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(rand::random::<i64>() & i64::MAX)
                .bind(corpid)
                .bind(scope.owner_key())
                .bind(&secret)
                .bind(&ips)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(|e| unique_secret(e, corpid))?;
            return Ok(secret);
        }
    };
    sqlx::query("UPDATE credentials SET trusted_ips = $1 WHERE corpid = $2 AND owner = $3")
        .bind(&ips)
        .bind(corpid)
        .bind(scope.owner_key())
        .execute(&mut **tx)
        .await?;
    Ok(secret)
}

fn unique_secret(e: sqlx::Error, corpid: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!("corp {corpid} already has that secret")),
        _ => e.into(),
    }
}
