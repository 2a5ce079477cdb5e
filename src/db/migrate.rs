//! Embedded refinery migrations, run under an advisory lock so replicas that
//! start together apply them once.

use super::{DbConfig, DbError};

refinery::embed_migrations!("migrations");

/// Any fixed number works; this one spells "fullpass" in ASCII, roughly.
const MIGRATION_LOCK: i64 = 0x6675_6c6c_7061_7373;

/// Where refinery keeps its history: our own schema, not `public`.
const HISTORY_TABLE: &str = "fullpass.refinery_schema_history";

/// Applies pending migrations; returns the names of those applied now.
pub async fn migrate(db: &DbConfig) -> Result<Vec<String>, DbError> {
    let mut client = db.connect().await?;
    client
        .execute("select pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(DbError::pg("taking the migration lock"))?;
    let result = run_locked(&mut client).await;
    // The lock is session-level: closing the connection frees it too.
    let _ = client
        .execute("select pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result
}

async fn run_locked(client: &mut tokio_postgres::Client) -> Result<Vec<String>, DbError> {
    client
        .batch_execute("create schema if not exists fullpass")
        .await
        .map_err(DbError::pg("creating the fullpass schema"))?;
    let report = migrations::runner()
        .set_migration_table_name(HISTORY_TABLE)
        .run_async(client)
        .await
        .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}
