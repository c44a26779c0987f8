//! The real `nave worker` binary on a real database, sending mail to the data folder: a process
//! killed while it holds jobs and a fresh one that finishes them, none twice (SQLite and
//! PostgreSQL); two processes sharing 10,000 jobs, each run exactly once (PostgreSQL).
//!
//! A finished job is deleted, so the table cannot say which runs happened. The workers' JSON logs
//! can: every run of a job closes its `job` span once, after its outcome is recorded (with the
//! job's id and attempt), and the mail folder logs a message it found already written. A killed
//! process may not have logged its last runs; a process stopped with SIGTERM has logged them all.
//! The mail folder itself must hold one file per job and per recipient.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use nave::db::schema::jobs;
use nave::db::{self, DbConnection, DbPool, DbUrl};
use nave::jobs::{EnqueueOptions, Job};
use nave::mail::Email;

use crate::helpers::*;

/// Job spans at info (their close is the record of a run), the mail folder's "already written" at
/// debug, everything else only when it goes wrong.
const LOG_FILTER: &str = "warn,nave::jobs::runner=info,nave::mail=debug";

/// A database and the data folder that the worker processes share.
struct Shared {
    url: String,
    pool: DbPool,
    dir: tempfile::TempDir,
    // Dropped last: the database outlives every process and connection above.
    _pg: Option<PgDatabase>,
}

impl Shared {
    fn new(backend: Backend) -> Option<Shared> {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("nave.db").display()), None),
            Backend::Postgres => {
                let pg = PgDatabase::create()?;
                (pg.url.clone(), Some(pg))
            }
        };
        if let Some(pg) = &pg {
            // Commits need not wait for the disk: what is tested is a worker process dying, not
            // the database server, and the tests take a fifth less time.
            let mut admin = diesel::PgConnection::establish(PG_ADMIN_URL).unwrap();
            admin.batch_execute(&format!("ALTER DATABASE {} SET synchronous_commit = off", pg.name)).unwrap();
        }
        let db_url = DbUrl::parse(&url).unwrap();
        db::run_migrations(&db_url).unwrap();
        // One connection: on PostgreSQL every other session on the database is a worker's.
        let pool = db::build_pool(&db_url, 1).unwrap();
        Some(Shared { url, pool, dir, _pg: pg })
    }

    fn conn(&self) -> db::PooledConn {
        self.pool.get().unwrap()
    }

    /// Mail jobs by state.
    fn states(&self) -> BTreeMap<String, i64> {
        jobs::table
            .filter(jobs::name.eq(Email::NAME))
            .group_by(jobs::state)
            .select((jobs::state, diesel::dsl::count_star()))
            .load::<(String, i64)>(&mut self.conn())
            .unwrap()
            .into_iter()
            .collect()
    }

    /// Mail jobs in `state` (`running`: held by a worker): id → attempts.
    fn in_state(&self, state: &str) -> BTreeMap<i64, i32> {
        jobs::table
            .filter(jobs::name.eq(Email::NAME))
            .filter(jobs::state.eq(state))
            .select((jobs::id, jobs::attempts))
            .load::<(i64, i32)>(&mut self.conn())
            .unwrap()
            .into_iter()
            .collect()
    }

    /// Waits until no mail job is left in any state; returns how long that took.
    fn wait_until_all_done(&self, deadline: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let left = self.states();
            if left.is_empty() {
                return started.elapsed();
            }
            assert!(started.elapsed() < deadline, "mail jobs left after {deadline:?}: {left:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// On PostgreSQL, waits until the server has ended the sessions of killed workers, so that no
    /// statement of theirs can still commit after the test reads the table.
    fn wait_for_no_other_sessions(&self) {
        #[derive(QueryableByName)]
        struct Sessions {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.conn();
        let DbConnection::Postgresql(c) = &mut *conn else { return };
        for _ in 0..200 {
            let s: Sessions = diesel::sql_query(
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .get_result(c)
            .unwrap();
            if s.n == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the killed worker's database sessions did not end");
    }

    /// The mail folder's messages: the job id in each file's name → its `To:` address.
    fn messages(&self) -> BTreeMap<i64, String> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail")) else { return BTreeMap::new() };
        let mut out = BTreeMap::new();
        for entry in entries {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            // Hidden temporary files of a run the kill interrupted are not messages.
            if !name.ends_with(".eml") {
                continue;
            }
            let id: i64 = name
                .strip_prefix("job-")
                .and_then(|rest| rest.split('-').next())
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(|| panic!("a mail file not named after its job: {name}"));
            let text = std::fs::read_to_string(self.dir.path().join("mail").join(&name)).unwrap();
            let to = text
                .lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap_or_else(|| panic!("{name} has no To: header"))
                .to_string();
            assert!(out.insert(id, to).is_none(), "two files for job {id}");
        }
        out
    }
}

fn message(i: usize) -> Email {
    Email {
        to: format!("u{i}@example.test"),
        subject: format!("Message {i}"),
        text: format!("Plain text for message {i}."),
        html: format!("<p>HTML for message {i}.</p>"),
        unsubscribe: None,
    }
}

/// Asserts the folder holds exactly one message per job and per recipient, the one enqueued for it.
fn assert_one_message_per_job(shared: &Shared, enqueued: &BTreeMap<i64, String>) {
    let messages = shared.messages();
    assert_eq!(messages.len(), enqueued.len(), "one file per job");
    let mut per_recipient: BTreeMap<&str, usize> = BTreeMap::new();
    for to in messages.values() {
        *per_recipient.entry(to.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_recipient.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "recipients with more than one message: {twice:?}");
    assert_eq!(&messages, enqueued, "each job's file holds its own recipient");
}

/// One `nave worker` process; its log lines are collected as they come.
struct Worker {
    child: Child,
    log: Option<JoinHandle<Vec<String>>>,
}

impl Worker {
    fn start(shared: &Shared, settings: &[(&str, &str)]) -> Worker {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nave"));
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("NAVE_")) {
            command.env_remove(name);
        }
        // No NAVE_SMTP_URL: mail goes to <data dir>/mail.
        command
            .arg("worker")
            .current_dir(shared.dir.path())
            .env("NAVE_DATABASE_URL", &shared.url)
            .env("NAVE_DATA_DIR", shared.dir.path())
            .env("NAVE_JOB_POLL_MS", "50")
            .env("NAVE_LOG", LOG_FILTER)
            .env("NAVE_LOG_FORMAT", "json")
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect());
        Worker { child, log: Some(log) }
    }

    /// SIGKILL: the process gets no chance to finish or release anything.
    fn kill(mut self) -> Runs {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        Runs::from_log(self.log.take().unwrap().join().unwrap())
    }

    /// SIGTERM, as an operator or a service manager stops it; it must exit cleanly.
    fn terminate(mut self) -> Runs {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let runs = Runs::from_log(self.log.take().unwrap().join().unwrap());
        assert!(exit.success(), "{exit:?}; log: {:?}", runs.other);
        runs
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // A failed assertion must not leave a worker running against a dropped database.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a worker's log says about its mail jobs.
#[derive(Debug, Default)]
struct Runs {
    /// (job id, attempt) of every run that ended (its outcome recorded).
    ended: Vec<(i64, i64)>,
    /// Jobs whose run found the message already in the folder.
    already_written: Vec<i64>,
    /// Warnings, errors and anything else, shown when an assertion fails.
    other: Vec<String>,
}

impl Runs {
    fn from_log(lines: Vec<String>) -> Runs {
        let mut runs = Runs::default();
        for line in lines {
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                runs.other.push(line);
                continue;
            };
            let span = &event["span"];
            let job = if span["name"] == "job" && span["job"] == Email::NAME { span["job_id"].as_i64() } else { None };
            match (job, event["fields"]["message"].as_str()) {
                (Some(id), Some("close")) => runs.ended.push((id, span["attempt"].as_i64().unwrap())),
                (Some(id), Some(m)) if m.starts_with("message already written") => runs.already_written.push(id),
                _ => runs.other.push(line),
            }
        }
        runs
    }

    /// The attempts of the runs that ended, per job id.
    fn attempts_per_job(&self) -> BTreeMap<i64, Vec<i64>> {
        let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (id, attempt) in &self.ended {
            out.entry(*id).or_default().push(*attempt);
        }
        out
    }
}

/// Until [`delete_finished_jobs_again`], the delete that finishes every hundredth mail job does
/// nothing, so the job stays claimed with its message written: what a worker leaves when it dies
/// after the work and before the delete (the gap that makes a job run again). A real kill lands
/// in that gap only by chance; this makes the test cover it every time.
fn keep_every_hundredth_finished_job(conn: &mut DbConnection) {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "CREATE TRIGGER keep_finished_job BEFORE DELETE ON jobs \
             WHEN OLD.name = 'mail.send' AND OLD.id % 100 = 0 BEGIN SELECT RAISE(IGNORE); END;"
        }
        DbConnection::Postgresql(_) => {
            "CREATE FUNCTION keep_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; \
             CREATE TRIGGER keep_finished_job BEFORE DELETE ON jobs FOR EACH ROW \
             WHEN (OLD.name = 'mail.send' AND OLD.id % 100 = 0) EXECUTE FUNCTION keep_row();"
        }
    };
    conn.batch_execute(sql).unwrap();
}

fn delete_finished_jobs_again(conn: &mut DbConnection) {
    let sql = match conn {
        DbConnection::Sqlite(_) => "DROP TRIGGER keep_finished_job;",
        DbConnection::Postgresql(_) => "DROP TRIGGER keep_finished_job ON jobs;",
    };
    conn.batch_execute(sql).unwrap();
}

fn a_worker_killed_while_it_holds_jobs_loses_none_and_repeats_none(backend: Backend) {
    const N: usize = 3000;
    let Some(shared) = Shared::new(backend) else { return };
    let enqueued: BTreeMap<i64, String> = db::write_transaction(&mut shared.conn(), |c| {
        (0..N)
            .map(|i| {
                let id = nave::jobs::enqueue(c, &message(i), EnqueueOptions::default())?.unwrap();
                Ok((id, message(i).to))
            })
            .collect::<QueryResult<_>>()
    })
    .unwrap();
    keep_every_hundredth_finished_job(&mut shared.conn());

    let settings = [("NAVE_JOB_WORKERS", "4"), ("NAVE_JOB_LEASE_SECONDS", "5")];
    let first = Worker::start(&shared, &settings);
    // Kill it once a tenth of the jobs have been taken, while at least one job other than the
    // kept ones is claimed, and well before the end.
    let started = Instant::now();
    loop {
        let pending = shared.states().get("pending").copied().unwrap_or(0) as usize;
        assert!(pending > N / 2, "the first worker got through half the jobs before the kill; raise N");
        if pending <= N * 9 / 10 && shared.in_state("running").keys().any(|id| id % 100 != 0) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the first worker did not get going");
        std::thread::sleep(Duration::from_millis(10));
    }
    let first = first.kill();
    shared.wait_for_no_other_sessions();

    let claimed_at_kill = shared.in_state("running");
    let pending_at_kill = shared.in_state("pending");
    let written_at_kill: BTreeSet<i64> = shared.messages().into_keys().collect();
    let claimed_and_written: BTreeSet<i64> =
        claimed_at_kill.keys().copied().filter(|id| written_at_kill.contains(id)).collect();
    let in_flight = claimed_at_kill.keys().filter(|id| *id % 100 != 0).count();
    eprintln!(
        "{backend:?}: killed after {:?} with {} claimed ({in_flight} in flight, {} with their message written) \
         and {} pending",
        started.elapsed(),
        claimed_at_kill.len(),
        claimed_and_written.len(),
        pending_at_kill.len(),
    );
    assert!(!claimed_at_kill.is_empty(), "jobs were claimed when the worker was killed");
    assert!(!claimed_and_written.is_empty(), "some claimed jobs had already written their message");
    delete_finished_jobs_again(&mut shared.conn());

    let second = Worker::start(&shared, &settings);
    let took = shared.wait_until_all_done(Duration::from_secs(120));
    let second = second.terminate();
    eprintln!("{backend:?}: the second worker finished in {took:?}");

    // With files named by time and a random token (as before), the rerun of every job in
    // `claimed_and_written` would write a second file, a second message to the same recipient,
    // and log no "already written": both checks below would fail (tried: "two files for job 100").
    assert_one_message_per_job(&shared, &enqueued);
    let mut already: Vec<i64> = second.already_written.clone();
    already.sort();
    assert_eq!(already, claimed_and_written.iter().copied().collect::<Vec<_>>(), "{:?}", second.other);

    let (first_runs, second_runs) = (first.attempts_per_job(), second.attempts_per_job());
    for id in enqueued.keys() {
        let (before, after) =
            (first_runs.get(id).cloned().unwrap_or_default(), second_runs.get(id).cloned().unwrap_or_default());
        let all: BTreeSet<_> = before.iter().chain(&after).collect();
        assert_eq!(all.len(), before.len() + after.len(), "job {id}: one claim ran twice: {before:?} {after:?}");
        if let Some(held) = claimed_at_kill.get(id) {
            // Claimed by the killed worker: the second takes it again once the lease has run out.
            assert_eq!(after, vec![*held as i64 + 1], "job {id} is rerun once after the kill");
        } else if pending_at_kill.contains_key(id) {
            assert_eq!((before, after), (vec![], vec![1]), "job {id} runs once, after the kill");
        } else {
            // Finished before the kill. The kill may have cut off its log line, never its delete.
            assert!(after.is_empty() && before.len() <= 1 && before.iter().all(|a| *a == 1), "job {id}: {before:?}");
        }
    }
}

#[test]
fn a_worker_killed_while_it_holds_jobs_loses_none_and_repeats_none_sqlite() {
    a_worker_killed_while_it_holds_jobs_loses_none_and_repeats_none(Backend::Sqlite);
}

#[test]
fn a_worker_killed_while_it_holds_jobs_loses_none_and_repeats_none_postgres() {
    a_worker_killed_while_it_holds_jobs_loses_none_and_repeats_none(Backend::Postgres);
}

/// Adds the jobs in one transaction with multi-row inserts; returns job id → recipient.
fn enqueue_in_bulk(conn: &mut DbConnection, n: usize) -> BTreeMap<i64, String> {
    let now = nave::accounts::now();
    let DbConnection::Postgresql(c) = conn else { panic!("PostgreSQL only") };
    c.transaction(|c| {
        let mut ids = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|i| {
                    (
                        jobs::name.eq(Email::NAME),
                        jobs::payload.eq(serde_json::to_string(&message(*i)).unwrap()),
                        jobs::state.eq("pending"),
                        jobs::run_at.eq(now),
                        jobs::created_at.eq(now),
                        jobs::updated_at.eq(now),
                    )
                })
                .collect();
            ids.extend(diesel::insert_into(jobs::table).values(rows).returning(jobs::id).get_results::<i64>(c)?);
        }
        Ok::<_, diesel::result::Error>(ids.into_iter().zip((0..n).map(|i| message(i).to)).collect())
    })
    .unwrap()
}

#[test]
fn two_worker_processes_run_ten_thousand_jobs_each_exactly_once_on_postgres() {
    const N: usize = 10_000;
    let Some(shared) = Shared::new(Backend::Postgres) else { return };
    let enqueued = enqueue_in_bulk(&mut shared.conn(), N);
    assert_eq!(enqueued.len(), N);

    // Four workers in two processes.
    let settings = [("NAVE_JOB_WORKERS", "2")];
    let (a, b) = (Worker::start(&shared, &settings), Worker::start(&shared, &settings));
    let took = shared.wait_until_all_done(Duration::from_secs(110));
    let (a, b) = (a.terminate(), b.terminate());
    eprintln!(
        "{N} jobs by 2 processes × 2 workers on PostgreSQL in {took:?} ({:.0} jobs/s): {} and {} runs",
        N as f64 / took.as_secs_f64(),
        a.ended.len(),
        b.ended.len()
    );

    assert_one_message_per_job(&shared, &enqueued);
    // The folder would hide a second run (it writes nothing the second time): the logs show it.
    assert!(
        a.already_written.is_empty() && b.already_written.is_empty(),
        "{} and {} runs found their message already written: jobs ran twice",
        a.already_written.len(),
        b.already_written.len()
    );
    let mut runs = a.attempts_per_job();
    for (id, attempts) in b.attempts_per_job() {
        runs.entry(id).or_default().extend(attempts);
    }
    assert_eq!(runs.keys().copied().collect::<Vec<_>>(), enqueued.keys().copied().collect::<Vec<_>>());
    let repeated: Vec<_> = runs.iter().filter(|(_, attempts)| attempts.as_slice() != [1]).take(10).collect();
    assert!(repeated.is_empty(), "jobs not run exactly once, at their first attempt: {repeated:?}");
    assert!(!a.ended.is_empty() && !b.ended.is_empty(), "both processes did some of the work");
}
