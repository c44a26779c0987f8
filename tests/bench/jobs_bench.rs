//! Job queue figures: no-op job throughput on SQLite and PostgreSQL with 1 and 4 workers, and
//! enqueue-to-start latency (p50 / p99) when idle, at the default poll interval and a short one.
//!
//!   cargo run --release --example jobs_bench            # JOBS=5000 SAMPLES=100 to change sizes
//!
//! PostgreSQL rows need a server at 127.0.0.1:5432 (trust auth, user postgres); a temporary
//! database is created and dropped.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use nave::db::{self, DbPool, DbUrl};
use nave::jobs::{queue, EnqueueOptions, Job, JobContext, Registry, Runner, RunnerOptions};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Noop {
    /// When it was enqueued, in nanoseconds since the epoch.
    sent: u128,
}

impl Job for Noop {
    const NAME: &'static str = "bench.noop";
}

fn epoch_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn pending(pool: &DbPool) -> anyhow::Result<i64> {
    let mut conn = pool.get()?;
    Ok(queue::counts(&mut conn)?.into_iter().map(|(_, n)| n).sum())
}

async fn throughput(pool: &DbPool, jobs: usize, workers: usize) -> anyhow::Result<f64> {
    {
        let mut conn = pool.get()?;
        db::write_transaction(&mut conn, |c| {
            for _ in 0..jobs {
                nave::jobs::enqueue(c, &Noop { sent: 0 }, EnqueueOptions::default())?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    let registry = Registry::new().register(|_: Noop, _ctx: JobContext| async { Ok(()) });
    let options = RunnerOptions { concurrency: workers, poll: Duration::from_millis(5), ..Default::default() };
    let started = Instant::now();
    let runner = Runner::start(pool.clone(), registry, options);
    while pending(pool)? > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    runner.shutdown().await;
    Ok(jobs as f64 / secs)
}

async fn latency(pool: &DbPool, samples: usize, poll: Duration) -> anyhow::Result<(f64, f64)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let registry = Registry::new().register(move |job: Noop, _ctx: JobContext| {
        let tx = tx.clone();
        async move {
            let _ = tx.send((epoch_nanos().saturating_sub(job.sent)) as f64 / 1e6);
            Ok(())
        }
    });
    let runner = Runner::start(pool.clone(), registry, RunnerOptions { concurrency: 1, poll, ..Default::default() });
    let mut ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        // Idle: wait a random part of a poll interval so enqueues do not line up with polls.
        tokio::time::sleep(poll.mul_f64(rand_fraction()) + Duration::from_millis(2)).await;
        let (p, sent) = (pool.clone(), epoch_nanos());
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = p.get()?;
            nave::jobs::enqueue(&mut conn, &Noop { sent }, EnqueueOptions::default())?;
            Ok(())
        })
        .await??;
        ms.push(rx.recv().await.ok_or_else(|| anyhow::anyhow!("worker stopped"))?);
    }
    runner.shutdown().await;
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    Ok((pct(0.50), pct(0.99)))
}

fn rand_fraction() -> f64 {
    (epoch_nanos() % 1000) as f64 / 1000.0
}

async fn run_backend(label: &str, url: DbUrl, jobs: usize, samples: usize) -> anyhow::Result<()> {
    db::run_migrations(&url)?;
    let pool = db::build_pool(&url, 8)?;
    for workers in [1, 4] {
        let rate = throughput(&pool, jobs, workers).await?;
        println!("{label:<10} no-op throughput, {workers} worker(s): {rate:>8.0} jobs/s ({jobs} jobs)");
    }
    for poll in [RunnerOptions::default().poll, Duration::from_millis(10)] {
        let (p50, p99) = latency(&pool, samples, poll).await?;
        println!(
            "{label:<10} enqueue-to-start when idle, poll {:>3} ms: p50 {p50:>7.1} ms, p99 {p99:>7.1} ms ({samples} samples)",
            poll.as_millis()
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let jobs = env_usize("JOBS", 5000);
    let samples = env_usize("SAMPLES", 100);
    let dir = tempfile::tempdir()?;
    run_backend("sqlite", DbUrl::Sqlite(dir.path().join("bench.db").display().to_string()), jobs, samples).await?;

    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    match diesel::PgConnection::establish(admin) {
        Ok(mut c) => {
            let name = format!("nave_jobs_bench_{}", std::process::id());
            c.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let result = run_backend(
                "postgres",
                DbUrl::Postgres(format!("postgres://postgres@127.0.0.1:5432/{name}")),
                jobs,
                samples,
            )
            .await;
            c.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))?;
            result?;
        }
        Err(e) => println!("postgres   skipped: {admin} did not answer ({e})"),
    }
    Ok(())
}
