//! The table side of the queue: enqueue, claim, finish, retry, park and release.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::Job;
use crate::accounts::now;
use crate::db::schema::jobs;
use crate::db::DbConnection;

#[derive(Debug, Clone)]
pub struct EnqueueOptions {
    pub priority: i32,
    /// When to run; `None` means now.
    pub run_at: Option<NaiveDateTime>,
    /// While a pending job has this key, another with the same key is not added.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
}

impl Default for EnqueueOptions {
    fn default() -> Self {
        EnqueueOptions { priority: 0, run_at: None, dedupe_key: None, max_attempts: 10 }
    }
}

/// Adds a job; call it inside the transaction of the write that causes it. Returns the job's id,
/// or `None` when a pending job with the same dedupe key already exists.
pub fn enqueue<J: Job>(conn: &mut DbConnection, job: &J, opts: EnqueueOptions) -> QueryResult<Option<i64>> {
    let payload = serde_json::to_string(job).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    enqueue_raw(conn, J::NAME, &payload, opts)
}

/// Adds a job by name with a raw JSON payload.
pub fn enqueue_raw(
    conn: &mut DbConnection,
    name: &str,
    payload: &str,
    opts: EnqueueOptions,
) -> QueryResult<Option<i64>> {
    let now = now();
    // A savepoint, so that a duplicate key does not abort the caller's transaction on PostgreSQL.
    let inserted = crate::db::write_transaction(conn, |conn| {
        diesel::insert_into(jobs::table)
            .values((
                jobs::name.eq(name),
                jobs::payload.eq(payload),
                jobs::priority.eq(opts.priority),
                jobs::state.eq("pending"),
                jobs::run_at.eq(opts.run_at.unwrap_or(now)),
                jobs::max_attempts.eq(opts.max_attempts.max(1)),
                jobs::dedupe_key.eq(opts.dedupe_key.as_deref()),
                jobs::created_at.eq(now),
                jobs::updated_at.eq(now),
            ))
            .returning(jobs::id)
            .get_result::<i64>(conn)
    });
    match inserted {
        Ok(id) => Ok(Some(id)),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A job a worker holds.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
    /// When it was enqueued; with the id it names this job apart from a job of another database
    /// that had the same id.
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
}

const READY: &str = "((state = 'pending' AND run_at <= {now}) OR (state = 'running' AND locked_until < {now}))";

/// Claims the most urgent ready job (or one whose worker's lease ran out) for `worker` until
/// `lease` from now. The job runs outside this transaction.
pub fn claim(conn: &mut DbConnection, worker: &str, lease: std::time::Duration) -> QueryResult<Option<Claimed>> {
    let now = now();
    let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::minutes(5));
    // The readiness test is repeated outside the sub-select: on PostgreSQL a second claimer that
    // waited for the row re-checks it after the first commits, and then finds nothing.
    let rows: Vec<Claimed> = match conn {
        DbConnection::Postgresql(c) => {
            let ready = READY.replace("{now}", "$3");
            let sql = format!(
                "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
                 WHERE id = (SELECT id FROM jobs WHERE {ready} ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 AND {ready} RETURNING id, name, payload, attempts, max_attempts, created_at"
            );
            diesel::sql_query(sql)
                .bind::<Text, _>(worker)
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now)
                .load(c)?
        }
        DbConnection::Sqlite(_) => {
            let sql = format!(
                "UPDATE jobs SET state = 'running', locked_by = ?1, locked_until = ?2, attempts = attempts + 1, updated_at = ?3 \
                 WHERE id = (SELECT id FROM jobs WHERE {r} ORDER BY priority DESC, run_at, id LIMIT 1) \
                 AND {r} RETURNING id, name, payload, attempts, max_attempts, created_at",
                r = READY.replace("{now}", "?3")
            );
            crate::db::write_transaction(conn, |conn| {
                let DbConnection::Sqlite(c) = conn else { return Ok(Vec::new()) };
                diesel::sql_query(sql.as_str())
                    .bind::<Text, _>(worker)
                    .bind::<Timestamp, _>(until)
                    .bind::<Timestamp, _>(now)
                    .load(c)
            })?
        }
    };
    Ok(rows.into_iter().next())
}

/// The job succeeded: it is removed (only if this worker still holds it).
pub fn finish(conn: &mut DbConnection, id: i64, worker: &str) -> QueryResult<bool> {
    let n = diesel::delete(jobs::table.filter(jobs::id.eq(id)).filter(jobs::locked_by.eq(worker))).execute(conn)?;
    Ok(n == 1)
}

/// Delay before retry `attempt` (1-based): 2^(attempt-1) × base, at most an hour, plus up to 25% jitter.
pub fn backoff(attempt: i32, base: std::time::Duration) -> std::time::Duration {
    let exp = 2u32.saturating_pow((attempt.max(1) - 1).min(20) as u32);
    let delay = base.saturating_mul(exp).min(std::time::Duration::from_secs(3600));
    let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0.0..0.25);
    delay + delay.mul_f64(jitter)
}

/// The job failed: back to pending after a backoff, or dead when it has used its attempts.
/// Returns true when it was parked as dead.
pub fn fail(
    conn: &mut DbConnection,
    job: &Claimed,
    worker: &str,
    error: &str,
    base: std::time::Duration,
) -> QueryResult<bool> {
    let dead = job.attempts >= job.max_attempts;
    let now = now();
    let run_at = now + TimeDelta::from_std(backoff(job.attempts, base)).unwrap_or(TimeDelta::minutes(1));
    let error: String = error.chars().take(4000).collect();
    set_state(conn, job.id, worker, if dead { "dead" } else { "pending" }, run_at, Some(&error))?;
    Ok(dead)
}

/// Parks a job as dead at once (its payload no longer parses, or no handler knows its name).
pub fn bury(conn: &mut DbConnection, job: &Claimed, worker: &str, error: &str) -> QueryResult<()> {
    set_state(conn, job.id, worker, "dead", now(), Some(error))
}

fn set_state(
    conn: &mut DbConnection,
    id: i64,
    worker: &str,
    state: &str,
    run_at: NaiveDateTime,
    error: Option<&str>,
) -> QueryResult<()> {
    let now = now();
    let updated = crate::db::write_transaction(conn, |conn| {
        diesel::update(jobs::table.filter(jobs::id.eq(id)).filter(jobs::locked_by.eq(worker)))
            .set((
                jobs::state.eq(state),
                jobs::run_at.eq(run_at),
                jobs::last_error.eq(error),
                jobs::locked_by.eq(None::<String>),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)
    });
    match updated {
        Ok(_) => Ok(()),
        // A newer pending job with the same dedupe key was added meanwhile: it does this work.
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            diesel::delete(jobs::table.filter(jobs::id.eq(id)).filter(jobs::locked_by.eq(worker))).execute(conn)?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Gives back every job this worker still holds (graceful shutdown); the attempt is not counted.
pub fn release_all(conn: &mut DbConnection, worker: &str) -> QueryResult<usize> {
    let held: Vec<i64> =
        jobs::table.filter(jobs::locked_by.eq(worker)).filter(jobs::state.eq("running")).select(jobs::id).load(conn)?;
    for id in &held {
        diesel::update(jobs::table.find(id)).set(jobs::attempts.eq(jobs::attempts - 1)).execute(conn)?;
        set_state(conn, *id, worker, "pending", now(), None)?;
    }
    Ok(held.len())
}

/// Counts of jobs by state.
pub fn counts(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    jobs::table.group_by(jobs::state).select((jobs::state, diesel::dsl::count_star())).load(conn)
}

/// A job as the admin page shows it.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct JobRow {
    pub id: i64,
    pub name: String,
    pub state: String,
    pub priority: i32,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub run_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Jobs in one state, the most urgent first.
pub fn list(conn: &mut DbConnection, state: &str, limit: i64) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::state.eq(state))
        .order((jobs::priority.desc(), jobs::run_at.asc(), jobs::id.asc()))
        .limit(limit)
        .select((
            jobs::id,
            jobs::name,
            jobs::state,
            jobs::priority,
            jobs::attempts,
            jobs::max_attempts,
            jobs::last_error,
            jobs::run_at,
            jobs::locked_by,
            jobs::created_at,
        ))
        .load(conn)
}

/// Puts a dead or waiting job back to run now with fresh attempts. Running jobs are left alone.
pub fn retry_now(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let now = now();
    let n = diesel::update(jobs::table.find(id).filter(jobs::state.ne("running")))
        .set((jobs::state.eq("pending"), jobs::run_at.eq(now), jobs::attempts.eq(0), jobs::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Removes a dead or waiting job. Running jobs are left alone.
pub fn discard(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(jobs::table.find(id).filter(jobs::state.ne("running"))).execute(conn)? == 1)
}
