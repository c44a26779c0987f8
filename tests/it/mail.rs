//! Mail through a real SMTP server process (Python's aiosmtpd, writing a maildir), sent by the
//! job queue: recipients, subject and both parts arrive; a server that is down delays mail
//! without losing it; the default folder transport writes `.eml` files.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nave::db::DbPool;
use nave::jobs::{self, EnqueueOptions, Runner, RunnerOptions};
use nave::mail::{Email, Mailer};

use crate::both_db;
use crate::jobs::{counts, fast, wait_until};

/// An SMTP server on a free port that stores what it receives in a maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn aiosmtpd_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "aiosmtpd is required under CI (pip install aiosmtpd)");
        eprintln!("\n!!!!! SKIPPED: SMTP test, because Python's aiosmtpd is not installed !!!!!\n");
    }
    ok
}

async fn start_smtp(port: u16, maildir: tempfile::TempDir) -> SmtpServer {
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("box"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd starts");
    // Owned at once, so the process is killed and reaped on every path, a failed start included.
    let server = SmtpServer { child, port, maildir };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aiosmtpd did not listen on {port}");
}

fn received(maildir: &std::path::Path) -> Vec<String> {
    let new = maildir.join("box").join("new");
    std::fs::read_dir(new)
        .map(|d| d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect())
        .unwrap_or_default()
}

fn welcome(to: &str) -> Email {
    Email {
        to: to.into(),
        subject: "Your answer was accepted".into(),
        text: "Plain text: well done.".into(),
        html: "<p>HTML: <strong>well done</strong>.</p>".into(),
        unsubscribe: None,
    }
}

fn smtp_mailer(port: u16) -> Arc<Mailer> {
    Arc::new(
        Mailer::new(
            Some(&format!("smtp://127.0.0.1:{port}")),
            "Nave <help@example.com>",
            std::path::Path::new("/unused"),
        )
        .unwrap(),
    )
}

both_db!(mail_goes_out_through_smtp_with_both_parts, |pool: DbPool| async move {
    if !aiosmtpd_available() {
        return;
    }
    let smtp = start_smtp(free_port(), tempfile::tempdir().unwrap()).await;
    jobs::enqueue(&mut pool.get().unwrap(), &welcome("ada@example.com"), EnqueueOptions::default()).unwrap();
    let r = Runner::start(pool.clone(), jobs::tasks::registry(smtp_mailer(smtp.port)), fast());
    let dir = smtp.maildir.path().to_path_buf();
    wait_until(|| !received(&dir).is_empty()).await;
    r.shutdown().await;
    let mails = received(&dir);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(m.contains("To: ada@example.com"), "{m}");
    assert!(m.contains("From: \"Nave\" <help@example.com>") || m.contains("From: Nave <help@example.com>"), "{m}");
    assert!(m.contains("Subject: Your answer was accepted"), "{m}");
    assert!(m.contains("multipart/alternative"), "{m}");
    assert!(m.contains("text/plain") && m.contains("Plain text: well done."), "{m}");
    assert!(m.contains("text/html") && m.contains("<strong>well done</strong>"), "{m}");
    assert!(counts(&pool).is_empty(), "the job is gone once sent");
});

both_db!(mail_enqueued_while_smtp_is_down_goes_out_when_it_is_back, |pool: DbPool| async move {
    if !aiosmtpd_available() {
        return;
    }
    let port = free_port();
    jobs::enqueue(&mut pool.get().unwrap(), &welcome("grace@example.com"), EnqueueOptions::default()).unwrap();
    let options = RunnerOptions { backoff_base: Duration::from_millis(100), ..fast() };
    let r = Runner::start(pool.clone(), jobs::tasks::registry(smtp_mailer(port)), options);
    // Nobody listens yet: the job fails and waits for its retry.
    let p2 = pool.clone();
    wait_until(|| {
        use diesel::prelude::*;
        use nave::db::schema::jobs as j;
        j::table.select(j::last_error).first::<Option<String>>(&mut p2.get().unwrap()).ok().flatten().is_some()
    })
    .await;
    let smtp = start_smtp(port, tempfile::tempdir().unwrap()).await;
    let dir = smtp.maildir.path().to_path_buf();
    wait_until(|| !received(&dir).is_empty()).await;
    r.shutdown().await;
    assert!(received(&dir)[0].contains("To: grace@example.com"));
    assert!(counts(&pool).is_empty());
});

#[tokio::test]
async fn without_smtp_mail_is_written_to_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(None, "Nave <nave@localhost>", dir.path()).unwrap();
    mailer.send(&welcome("lin@example.com")).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail")).unwrap().filter_map(|e| e.ok()).collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].file_name().to_string_lossy().ends_with(".eml"));
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(text.contains("To: lin@example.com") && text.contains("multipart/alternative"));
}

#[tokio::test]
async fn a_rerun_of_a_mail_job_writes_no_second_file() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Arc::new(Mailer::new(None, "Nave <nave@localhost>", dir.path()).unwrap());
    let enqueued = nave::accounts::now();
    mailer.send_for_job(&welcome("kim@example.com"), 7, enqueued).await.unwrap();
    mailer.send_for_job(&welcome("kim@example.com"), 7, enqueued).await.unwrap();
    // Two runs at once (a lease that ran out while the first was still running) write one file too.
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let m = mailer.clone();
            tokio::spawn(async move { m.send_for_job(&welcome("lee@example.com"), 8, enqueued).await })
        })
        .collect();
    for r in runs {
        r.await.unwrap().unwrap();
    }
    // The same id in another database (a fresh SQLite file beside the old mail) is another job.
    mailer.send_for_job(&welcome("kim@example.com"), 7, enqueued + chrono::TimeDelta::seconds(1)).await.unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "no temporary files left and one file per job: {names:?}");
    assert!(names[0].starts_with("job-000000000007-") && names[1].starts_with("job-000000000007-"), "{names:?}");
    assert!(names[2].starts_with("job-000000000008-") && names.iter().all(|n| n.ends_with(".eml")), "{names:?}");
    let lee = std::fs::read_to_string(dir.path().join("mail").join(&names[2])).unwrap();
    assert!(lee.contains("To: lee@example.com") && lee.contains("multipart/alternative"), "{lee}");
}
