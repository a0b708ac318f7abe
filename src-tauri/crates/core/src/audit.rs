//! The audit trail: one row per change a user makes, written in the same transaction as the
//! change so the record and the data never disagree.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::db::OrgId;
use crate::error::Result;
use crate::schema::audit_event;

/// Appends an audit event, e.g. `record(txn, org, "create", "entity", Some(7), "Nguyen Family Trust", now)`.
///
/// # Errors
/// [`crate::Error::Db`] on database failure.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    action: &str,
    subject: &str,
    subject_id: Option<i32>,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    audit_event::ActiveModel {
        organisation_id: Set(org.0),
        at: Set(now),
        action: Set(action.to_owned()),
        subject: Set(subject.to_owned()),
        subject_id: Set(subject_id),
        detail: Set(Some(detail.to_owned())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
