//! Workers: claim a job, run its handler outside any transaction, record the outcome.
//! Runs inside `nave serve` (unless turned off) and as `nave worker`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::queue::{self, Claimed};
use super::Job;
use crate::db::DbPool;

/// What a handler gets besides its payload.
#[derive(Clone)]
pub struct JobContext {
    pub pool: DbPool,
    pub job_id: i64,
    /// 1 on the first try.
    pub attempt: i32,
    /// When the job was enqueued: the same on every run of it.
    pub created_at: chrono::NaiveDateTime,
}

impl JobContext {
    /// Runs blocking database work off the async threads.
    pub async fn db<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut crate::db::DbConnection) -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut *pool.get()?)).await?
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(String, JobContext) -> Result<BoxFuture, String> + Send + Sync>;

/// Which handler runs which job name.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of job type `J`.
    pub fn register<J, F, Fut>(mut self, handler: F) -> Self
    where
        J: Job,
        F: Fn(J, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.handlers.insert(
            J::NAME,
            Arc::new(move |payload: String, ctx: JobContext| {
                let job: J = serde_json::from_str(&payload).map_err(|e| format!("payload does not parse: {e}"))?;
                let handler = handler.clone();
                Ok(Box::pin(async move { handler(job, ctx).await }) as BoxFuture)
            }),
        );
        self
    }
}

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// How long to sleep when there is nothing to do.
    pub poll: Duration,
    /// How long a claim lasts before another worker may take the job.
    pub lease: Duration,
    /// First retry delay; doubled on every further attempt.
    pub backoff_base: Duration,
    /// How long running jobs may take to finish at shutdown before they are released.
    pub grace: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            concurrency: 2,
            poll: Duration::from_millis(500),
            lease: Duration::from_secs(300),
            backoff_base: Duration::from_secs(5),
            grace: Duration::from_secs(20),
        }
    }
}

/// A set of workers in this process, stopped through [`Runner::shutdown`].
pub struct Runner {
    pub worker_id: String,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pool: DbPool,
    grace: Duration,
}

impl Runner {
    /// Starts `concurrency` workers on the current tokio runtime.
    pub fn start(pool: DbPool, registry: Registry, options: RunnerOptions) -> Runner {
        let worker_id =
            format!("{}:{}:{}", hostname(), std::process::id(), crate::accounts::random_token().get(..8).unwrap_or(""));
        let (stop, stopped) = watch::channel(false);
        let registry = Arc::new(registry);
        let tasks = (0..options.concurrency.max(1))
            .map(|_| {
                let (pool, registry, options, stopped, worker_id) =
                    (pool.clone(), registry.clone(), options.clone(), stopped.clone(), worker_id.clone());
                tokio::spawn(async move { work(pool, registry, options, stopped, worker_id).await })
            })
            .collect();
        Runner { worker_id, stop, tasks, pool, grace: options.grace }
    }

    /// Stops claiming, lets running jobs finish within the grace period, releases the rest.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let mut tasks = self.tasks;
        let all = futures_util::future::join_all(tasks.iter_mut());
        if tokio::time::timeout(self.grace, all).await.is_err() {
            for t in &tasks {
                t.abort();
            }
        }
        let (pool, worker) = (self.pool.clone(), self.worker_id.clone());
        let released = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            Ok(queue::release_all(&mut *pool.get()?, &worker)?)
        })
        .await;
        match released {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(released = n, "released unfinished jobs at shutdown"),
            Ok(Err(e)) => tracing::error!(error = %e, "could not release jobs at shutdown"),
            Err(e) => tracing::error!(error = %e, "could not release jobs at shutdown"),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "node".into())
}

async fn blocking<T: Send + 'static>(
    pool: &DbPool,
    f: impl FnOnce(&mut crate::db::DbConnection) -> diesel::QueryResult<T> + Send + 'static,
) -> anyhow::Result<T> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<T> { Ok(f(&mut *pool.get()?)?) }).await?
}

async fn work(
    pool: DbPool,
    registry: Arc<Registry>,
    options: RunnerOptions,
    mut stopped: watch::Receiver<bool>,
    worker: String,
) {
    loop {
        if *stopped.borrow() {
            return;
        }
        let w = worker.clone();
        let lease = options.lease;
        let claimed = match blocking(&pool, move |c| queue::claim(c, &w, lease)).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim a job");
                None
            }
        };
        let Some(job) = claimed else {
            tokio::select! {
                _ = tokio::time::sleep(options.poll) => {}
                _ = stopped.changed() => {}
            }
            continue;
        };
        run_one(&pool, &registry, &options, &worker, job).await;
    }
}

async fn run_one(pool: &DbPool, registry: &Registry, options: &RunnerOptions, worker: &str, job: Claimed) {
    use tracing::Instrument;
    let span = tracing::info_span!("job", job_id = job.id, job = %job.name, attempt = job.attempts);
    run_claimed(pool, registry, options, worker, job).instrument(span).await
}

async fn run_claimed(pool: &DbPool, registry: &Registry, options: &RunnerOptions, worker: &str, job: Claimed) {
    let ctx = JobContext { pool: pool.clone(), job_id: job.id, attempt: job.attempts, created_at: job.created_at };
    let future = match registry.handlers.get(job.name.as_str()) {
        Some(h) => h(job.payload.clone(), ctx),
        None => Err(format!("no handler for job {:?}", job.name)),
    };
    let (w, j) = (worker.to_string(), job.clone());
    let outcome = match future {
        Err(parse_error) => {
            tracing::error!(error = %parse_error, "job parked as dead");
            blocking(pool, move |c| queue::bury(c, &j, &w, &parse_error)).await.map(|_| ())
        }
        Ok(fut) => match fut.await {
            Ok(()) => blocking(pool, move |c| queue::finish(c, j.id, &w)).await.map(|_| ()),
            Err(e) => {
                let message = format!("{e:#}");
                let base = options.backoff_base;
                let dead = blocking(pool, move |c| queue::fail(c, &j, &w, &message, base)).await;
                match &dead {
                    Ok(true) => tracing::error!(error = %e, "job failed for the last time; parked as dead"),
                    _ => tracing::warn!(error = %e, "job failed; will retry"),
                }
                dead.map(|_| ())
            }
        },
    };
    if let Err(e) = outcome {
        // The lease runs out and another worker retries: nothing is lost.
        tracing::error!(error = %e, "could not record a job's outcome");
    }
}
