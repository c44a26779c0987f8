//! Durable background jobs in one database table: enqueued in the same transaction as the write
//! that causes them, claimed so that no two workers (in any node) run one at once, retried with
//! exponential backoff and jitter, and parked as dead when they keep failing.
//!
//! States: `pending` (waiting for `run_at`), `running` (claimed until `locked_until`; a worker that
//! dies lets the lease expire and another worker takes the job again), `dead`. A finished job is
//! deleted. Jobs must be idempotent: a worker can die after the work and before the delete.

pub mod queue;
pub mod runner;
pub mod tasks;

pub use queue::{enqueue, EnqueueOptions};
pub use runner::{JobContext, Registry, Runner, RunnerOptions};

/// A typed job: its name in the table and its payload type.
pub trait Job: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {
    const NAME: &'static str;
}
