//! The durable job queue on both backends: same-transaction enqueue, dedupe, exclusive claims,
//! retries with backoff, dead jobs, expired leases and graceful shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use nave::db::{self, DbPool, DbUrl};
use nave::jobs::{self, queue, EnqueueOptions, Job, JobContext, Registry, Runner, RunnerOptions};
use serde::{Deserialize, Serialize};

use crate::helpers::*;

/// A database with the schema and a `job_log` table the test jobs write to.
pub struct TestDb {
    pub pool: DbPool,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

pub fn test_db(backend: Backend) -> Option<TestDb> {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = match backend {
        Backend::Sqlite => (DbUrl::Sqlite(dir.path().join("jobs.db").display().to_string()), None),
        Backend::Postgres => {
            let pg = PgDatabase::create()?;
            (DbUrl::Postgres(pg.url.clone()), Some(pg))
        }
    };
    db::run_migrations(&url).unwrap();
    let pool = db::build_pool(&url, 8).unwrap();
    pool.get().unwrap().batch_execute("CREATE TABLE job_log (job_id BIGINT NOT NULL, n INTEGER NOT NULL)").unwrap();
    Some(TestDb { pool, _dir: dir, _pg: pg })
}

#[macro_export]
macro_rules! both_db {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                // The guard keeps the database alive until the body is done.
                if let Some(guard) = $crate::jobs::test_db($crate::helpers::Backend::Sqlite) {
                    ($body)(guard.pool.clone()).await;
                    drop(guard);
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(guard) = $crate::jobs::test_db($crate::helpers::Backend::Postgres) {
                    ($body)(guard.pool.clone()).await;
                    drop(guard);
                }
            }
        }
    };
}

#[derive(Serialize, Deserialize)]
struct Record {
    n: i32,
}
impl Job for Record {
    const NAME: &'static str = "test.record";
}

#[derive(Serialize, Deserialize)]
struct AlwaysFails {}
impl Job for AlwaysFails {
    const NAME: &'static str = "test.fails";
}

#[derive(Serialize, Deserialize)]
struct Slow {
    ms: u64,
}
impl Job for Slow {
    const NAME: &'static str = "test.slow";
}

fn record_handler() -> Registry {
    Registry::new().register(|job: Record, ctx: JobContext| async move {
        ctx.db(move |c| {
            diesel::sql_query(format!("INSERT INTO job_log (job_id, n) VALUES ({}, {})", ctx.job_id, job.n))
                .execute(c)?;
            Ok(())
        })
        .await
    })
}

pub fn fast() -> RunnerOptions {
    RunnerOptions {
        concurrency: 4,
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(60),
        backoff_base: Duration::from_millis(10),
        grace: Duration::from_secs(5),
    }
}

fn log_rows(pool: &DbPool) -> Vec<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        n: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        c: i64,
    }
    let rows: Vec<Row> = diesel::sql_query("SELECT n, COUNT(*) AS c FROM job_log GROUP BY n ORDER BY n")
        .load(&mut *pool.get().unwrap())
        .unwrap();
    rows.into_iter().map(|r| (r.n as i64, r.c)).collect()
}

pub fn counts(pool: &DbPool) -> std::collections::HashMap<String, i64> {
    queue::counts(&mut pool.get().unwrap()).unwrap().into_iter().collect()
}

pub async fn wait_until(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition not reached in 10 s");
}

both_db!(a_job_enqueued_in_a_rolled_back_transaction_does_not_exist, |pool: DbPool| async move {
    let mut conn = pool.get().unwrap();
    let r: Result<(), diesel::result::Error> = db::write_transaction(&mut conn, |c| {
        jobs::enqueue(c, &Record { n: 1 }, EnqueueOptions::default())?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(r.is_err());
    db::write_transaction(&mut conn, |c| jobs::enqueue(c, &Record { n: 2 }, EnqueueOptions::default())).unwrap();
    assert_eq!(counts(&pool).get("pending"), Some(&1));
});

both_db!(a_second_job_with_a_pending_dedupe_key_is_not_added, |pool: DbPool| async move {
    let mut conn = pool.get().unwrap();
    let opts = || EnqueueOptions { dedupe_key: Some("digest:42".into()), ..Default::default() };
    let first = db::write_transaction(&mut conn, |c| jobs::enqueue(c, &Record { n: 1 }, opts())).unwrap();
    // The duplicate does not spoil the surrounding transaction: the other write still commits.
    let second = db::write_transaction(&mut conn, |c| {
        let dup = jobs::enqueue(c, &Record { n: 1 }, opts())?;
        jobs::enqueue(c, &Record { n: 3 }, EnqueueOptions::default())?;
        Ok::<_, diesel::result::Error>(dup)
    })
    .unwrap();
    assert!(first.is_some());
    assert_eq!(second, None);
    assert_eq!(counts(&pool).get("pending"), Some(&2));
});

both_db!(many_workers_run_each_job_exactly_once, |pool: DbPool| async move {
    {
        let mut conn = pool.get().unwrap();
        db::write_transaction(&mut conn, |c| {
            for n in 0..400 {
                jobs::enqueue(c, &Record { n }, EnqueueOptions::default())?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }
    // Two runners stand for two nodes.
    let a = Runner::start(pool.clone(), record_handler(), fast());
    let b = Runner::start(pool.clone(), record_handler(), fast());
    let p2 = pool.clone();
    wait_until(|| counts(&p2).is_empty()).await;
    a.shutdown().await;
    b.shutdown().await;
    let rows = log_rows(&pool);
    assert_eq!(rows.len(), 400);
    assert!(rows.iter().all(|(_, c)| *c == 1), "every job ran exactly once");
});

both_db!(a_failing_job_retries_with_backoff_then_is_parked_dead, |pool: DbPool| async move {
    let tries = Arc::new(AtomicUsize::new(0));
    let seen = tries.clone();
    let registry = Registry::new().register(move |_: AlwaysFails, _ctx: JobContext| {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            anyhow::bail!("the SMTP server said no")
        }
    });
    {
        let mut conn = pool.get().unwrap();
        jobs::enqueue(&mut conn, &AlwaysFails {}, EnqueueOptions { max_attempts: 3, ..Default::default() }).unwrap();
    }
    let r = Runner::start(pool.clone(), registry, fast());
    let p2 = pool.clone();
    wait_until(|| counts(&p2).get("dead") == Some(&1)).await;
    r.shutdown().await;
    assert_eq!(tries.load(Ordering::SeqCst), 3);
    let (attempts, error): (i32, Option<String>) = nave::db::schema::jobs::table
        .select((nave::db::schema::jobs::attempts, nave::db::schema::jobs::last_error))
        .first(&mut *pool.get().unwrap())
        .unwrap();
    assert_eq!(attempts, 3);
    assert!(error.unwrap().contains("the SMTP server said no"));
});

#[test]
fn backoff_doubles_and_has_bounded_jitter() {
    let base = Duration::from_secs(2);
    for (attempt, expected) in [(1, 2), (2, 4), (3, 8), (10, 1024)] {
        let d = queue::backoff(attempt, base).as_secs_f64();
        assert!(d >= expected as f64 && d <= expected as f64 * 1.25, "attempt {attempt}: {d}");
    }
    assert!(queue::backoff(40, base) <= Duration::from_secs(4500), "capped near an hour");
}

both_db!(a_payload_that_no_longer_parses_is_parked_dead_not_retried, |pool: DbPool| async move {
    {
        let mut conn = pool.get().unwrap();
        queue::enqueue_raw(&mut conn, Record::NAME, "{\"n\": \"not a number\"}", EnqueueOptions::default()).unwrap();
        queue::enqueue_raw(&mut conn, "test.unknown", "{}", EnqueueOptions::default()).unwrap();
    }
    let r = Runner::start(pool.clone(), record_handler(), fast());
    let p2 = pool.clone();
    wait_until(|| counts(&p2).get("dead") == Some(&2)).await;
    r.shutdown().await;
    let errors: Vec<Option<String>> = nave::db::schema::jobs::table
        .select(nave::db::schema::jobs::last_error)
        .load(&mut *pool.get().unwrap())
        .unwrap();
    assert!(errors.iter().flatten().any(|e| e.contains("payload does not parse")));
    assert!(errors.iter().flatten().any(|e| e.contains("no handler")));
});

both_db!(a_job_whose_worker_died_is_taken_again_after_its_lease, |pool: DbPool| async move {
    {
        let mut conn = pool.get().unwrap();
        jobs::enqueue(&mut conn, &Record { n: 7 }, EnqueueOptions::default()).unwrap();
        // A worker claims it and dies without finishing.
        let claimed = queue::claim(&mut conn, "dead-worker", Duration::from_millis(200)).unwrap();
        assert!(claimed.is_some());
        assert!(
            queue::claim(&mut conn, "other", Duration::from_secs(60)).unwrap().is_none(),
            "held while the lease runs"
        );
    }
    let r = Runner::start(pool.clone(), record_handler(), fast());
    let p2 = pool.clone();
    wait_until(|| counts(&p2).is_empty()).await;
    r.shutdown().await;
    assert_eq!(log_rows(&pool), vec![(7, 1)]);
});

both_db!(shutdown_releases_jobs_that_outlast_the_grace_period, |pool: DbPool| async move {
    let registry = Registry::new().register(|job: Slow, _ctx: JobContext| async move {
        tokio::time::sleep(Duration::from_millis(job.ms)).await;
        Ok(())
    });
    {
        let mut conn = pool.get().unwrap();
        jobs::enqueue(&mut conn, &Slow { ms: 60_000 }, EnqueueOptions::default()).unwrap();
    }
    let r = Runner::start(pool.clone(), registry, RunnerOptions { grace: Duration::from_millis(200), ..fast() });
    let p2 = pool.clone();
    wait_until(|| counts(&p2).get("running") == Some(&1)).await;
    r.shutdown().await;
    assert_eq!(counts(&pool).get("pending"), Some(&1), "released for another worker");
    let attempts: i32 = nave::db::schema::jobs::table
        .select(nave::db::schema::jobs::attempts)
        .first(&mut *pool.get().unwrap())
        .unwrap();
    assert_eq!(attempts, 0, "a release is not a failed attempt");
});

both_db!(recurring_tasks_keep_one_occurrence_and_reschedule_themselves, |pool: DbPool| async move {
    use nave::db::schema::{jobs as jobs_t, sessions, users};
    {
        let mut conn = pool.get().unwrap();
        // Two nodes start and both schedule the recurring tasks.
        jobs::tasks::schedule_recurring(&mut conn, 60).unwrap();
        jobs::tasks::schedule_recurring(&mut conn, 60).unwrap();
        assert_eq!(counts(&pool).get("pending"), Some(&1));
        let name = nave::domain::Username::parse("sleeper").unwrap();
        let email = nave::domain::Email::parse("sleeper@example.com").unwrap();
        let user = nave::accounts::users::create(&mut conn, &name, &email, "x", nave::domain::Role::User).unwrap();
        nave::accounts::sessions::create(&mut conn, user.id, "fresh").unwrap();
        nave::accounts::sessions::create(&mut conn, user.id, "stale").unwrap();
        let old = nave::accounts::now() - chrono::TimeDelta::minutes(61);
        diesel::update(sessions::table.filter(sessions::user_agent.eq("stale")))
            .set(sessions::last_seen_at.eq(old))
            .execute(&mut conn)
            .unwrap();
        assert_eq!(users::table.count().get_result::<i64>(&mut conn).unwrap(), 1);
    }
    let mailer = nave::mail::Mailer::new(None, "Nave <nave@localhost>", std::path::Path::new("/nonexistent")).unwrap();
    let r = Runner::start(pool.clone(), jobs::tasks::registry(std::sync::Arc::new(mailer)), fast());
    let p2 = pool.clone();
    wait_until(|| sessions::table.count().get_result::<i64>(&mut p2.get().unwrap()).unwrap() == 1).await;
    let p3 = pool.clone();
    // The next occurrence is pending, an hour out.
    wait_until(|| counts(&p3).get("pending") == Some(&1) && !counts(&p3).contains_key("running")).await;
    r.shutdown().await;
    let run_at: chrono::NaiveDateTime = jobs_t::table.select(jobs_t::run_at).first(&mut pool.get().unwrap()).unwrap();
    assert!(run_at > nave::accounts::now() + chrono::TimeDelta::minutes(59));
    let left: Vec<String> = sessions::table.select(sessions::user_agent).load(&mut pool.get().unwrap()).unwrap();
    assert_eq!(left, vec!["fresh".to_string()]);
});

mod admin_page {
    use super::*;
    use crate::both;

    both!(admins_see_dead_jobs_with_their_errors_and_retry_or_discard_them, |app: TestApp| async move {
        use nave::db::schema::{jobs as j, users};
        let admin = app.person("the_admin").await;
        let user = app.person("just_a_user").await;
        let mut conn = db::establish(&DbUrl::parse(&app.database_url).unwrap()).unwrap();
        diesel::update(users::table.find(admin.id)).set(users::role.eq("admin")).execute(&mut conn).unwrap();
        let dead = queue::enqueue_raw(&mut conn, "mail.send", "{\"broken\": true}", EnqueueOptions::default())
            .unwrap()
            .unwrap();
        diesel::update(j::table.find(dead))
            .set((j::state.eq("dead"), j::last_error.eq("payload does not parse: missing field `to`")))
            .execute(&mut conn)
            .unwrap();
        let anon = app.get(&browser(), "/admin/jobs").await;
        assert_eq!(anon.status(), 303);
        let res = app.get(&user.browser, "/admin/jobs").await;
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("Only administrators"));
        assert_eq!(app.post_form(&user.browser, "/", &format!("/admin/jobs/{dead}/discard"), &[]).await.status(), 403);
        let html = app.get_html(&admin.browser, "/admin/jobs").await;
        assert!(html.contains(&format!("id=\"job-{dead}\"")) && html.contains("missing field `to`"));
        let res = app.post_form(&admin.browser, "/admin/jobs", &format!("/admin/jobs/{dead}/retry"), &[]).await;
        assert_eq!(res.status(), 303);
        let (state, attempts): (String, i32) =
            j::table.find(dead).select((j::state, j::attempts)).first(&mut conn).unwrap();
        assert_eq!((state.as_str(), attempts), ("pending", 0));
        let res = app.post_form(&admin.browser, "/admin/jobs", &format!("/admin/jobs/{dead}/discard"), &[]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(j::table.filter(j::id.eq(dead)).count().get_result::<i64>(&mut conn).unwrap(), 0);
        let again = app.post_form(&admin.browser, "/admin/jobs", &format!("/admin/jobs/{dead}/discard"), &[]).await;
        assert_eq!(again.status(), 409);
    });
}
