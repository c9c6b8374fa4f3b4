//! JS-SDK tickets: one live ticket per corp, kind and owner, replaced only once it has expired, so
//! every instance on one database hands out the same ticket. The rules are in `wecom_model::ticket`.

use crate::{Result, Store};
use sqlx::Row;
use wecom_model::ticket::{new_ticket, Kind, TICKET_SECS};

impl Store {
    /// The live ticket of `kind` for `owner` and the seconds it has left; a new one (7200 s) when
    /// there was none or it had expired.
    pub async fn ticket(&self, corpid: &str, kind: Kind, owner: &str, now: i64) -> Result<(String, i64)> {
        let select = "SELECT ticket, expires_at FROM tickets WHERE corpid = $1 AND kind = $2 AND owner = $3 AND expires_at > $4";
        let live = sqlx::query(select).bind(corpid).bind(kind.name()).bind(owner).bind(now).fetch_optional(&self.read).await?;
        if let Some(r) = live {
            return Ok((r.get(0), r.get::<i64, _>(1) - now));
        }
        // Only an expired row is replaced: of two instances racing here, both answer the winner's.
        sqlx::query(
            "INSERT INTO tickets (corpid, kind, owner, ticket, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (corpid, kind, owner) DO UPDATE SET ticket = excluded.ticket, expires_at = excluded.expires_at \
             WHERE tickets.expires_at <= $6",
        )
        .bind(corpid)
        .bind(kind.name())
        .bind(owner)
        .bind(new_ticket())
        .bind(now + TICKET_SECS)
        .bind(now)
        .execute(&self.write)
        .await?;
        let r = sqlx::query(select).bind(corpid).bind(kind.name()).bind(owner).bind(now).fetch_one(&self.write).await?;
        Ok((r.get(0), r.get::<i64, _>(1) - now))
    }
}
