//! The application's own jobs and recurring tasks, and the registry that runs them.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{EnqueueOptions, Job, JobContext, Registry};
use crate::db::DbConnection;
use crate::mail::{Email, Mailer};

/// Every job type the application knows.
pub fn registry(mailer: Arc<Mailer>) -> Registry {
    Registry::new().register(cleanup_sessions).register(move |mail: Email, ctx: JobContext| {
        let mailer = mailer.clone();
        async move { mailer.send_for_job(&mail, ctx.job_id, ctx.created_at).await }
    })
}

/// Schedules the recurring tasks. Safe to call from every node at start: the dedupe key keeps
/// one pending occurrence per task.
pub fn schedule_recurring(conn: &mut DbConnection, session_idle_minutes: i64) -> QueryResult<()> {
    let job = CleanupSessions { idle_minutes: session_idle_minutes };
    super::enqueue(conn, &job, recurring(CleanupSessions::NAME, Duration::ZERO))?;
    Ok(())
}

/// Options for the next occurrence of a recurring task, `after` from now.
pub fn recurring(name: &str, after: Duration) -> EnqueueOptions {
    EnqueueOptions {
        dedupe_key: Some(format!("recurring:{name}")),
        run_at: Some(crate::accounts::now() + TimeDelta::from_std(after).unwrap_or(TimeDelta::hours(1))),
        max_attempts: 3,
        ..Default::default()
    }
}

/// Deletes sessions idle for longer than the idle limit; runs hourly.
#[derive(Debug, Serialize, Deserialize)]
pub struct CleanupSessions {
    pub idle_minutes: i64,
}

impl Job for CleanupSessions {
    const NAME: &'static str = "sessions.cleanup";
}

pub const CLEANUP_EVERY: Duration = Duration::from_secs(3600);

async fn cleanup_sessions(job: CleanupSessions, ctx: JobContext) -> anyhow::Result<()> {
    let removed = ctx
        .db(move |c| {
            use crate::db::schema::sessions;
            let cutoff = crate::accounts::now() - TimeDelta::minutes(job.idle_minutes);
            crate::db::write_transaction(c, |c| {
                let n = diesel::delete(sessions::table.filter(sessions::last_seen_at.lt(cutoff))).execute(c)?;
                super::enqueue(c, &job, recurring(CleanupSessions::NAME, CLEANUP_EVERY))?;
                Ok::<_, diesel::result::Error>(n)
            })
            .map_err(Into::into)
        })
        .await?;
    tracing::info!(removed, "removed idle sessions");
    Ok(())
}
