//! The `nave` command itself: serving prints the address, accounts from the command line,
//! demo data, and settings errors that name the setting.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::helpers::*;

fn nave(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nave"));
    c.current_dir(dir).env_remove("NAVE_CONFIG").env("NAVE_LOG", "warn");
    c
}

#[test]
fn serve_prints_the_address_it_serves_and_answers_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = nave(dir.path())
        .arg("serve")
        .env("NAVE_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("Nave is serving on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let body = blocking_get(&format!("{url}/healthz"));
    child.kill().ok();
    child.wait().ok();
    assert_eq!(body, "ok");
    assert!(dir.path().join("data/nave.db").exists(), "embedded SQLite under ./data");
    let key = dir.path().join("data/session.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_wrong_setting_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = nave(dir.path()).env("NAVE_BIND", "not-an-address").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NAVE_BIND") && err.contains("address and port"), "{err}");
}

#[test]
fn settings_are_read_from_nave_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nave.toml"), "log_format = \"yaml\"\n").unwrap();
    let out = nave(dir.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NAVE_LOG_FORMAT") && err.contains("text or json"), "{err}");
}

#[test]
fn user_create_reads_the_password_from_stdin_and_the_account_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = nave(dir.path())
        .args(["user", "create", "staffer", "--email", "staff@example.com", "--role", "staff"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created staff staffer"));
    let mut conn =
        nave::db::establish(&nave::db::DbUrl::Sqlite(dir.path().join("data/nave.db").display().to_string())).unwrap();
    let user = nave::accounts::users::find_by_username(&mut conn, "staffer").unwrap();
    assert_eq!(user.role, "staff");
    assert!(nave::accounts::passwords::verify(PASSWORD, Some(&user.password_hash)));
}

#[test]
fn user_create_refuses_a_short_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = nave(dir.path())
        .args(["user", "create", "shorty", "--email", "s@example.com"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
}

#[test]
fn seed_demo_is_deterministic_for_a_seed() {
    let titles = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = nave(dir.path())
            .args([
                "seed-demo",
                "--seed",
                seed,
                "--users",
                "5",
                "--questions",
                "20",
                "--benchmark-answers",
                "3",
                "--quiet",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut conn =
            nave::db::establish(&nave::db::DbUrl::Sqlite(dir.path().join("data/nave.db").display().to_string()))
                .unwrap();
        let page = nave::qa::listing::questions(&mut conn, nave::qa::listing::Sort::Votes, None, 1, 100).unwrap();
        let mut v: Vec<(String, i64, i64, Vec<String>)> =
            page.items.into_iter().map(|q| (q.title, q.score, q.answer_count, q.tags)).collect();
        v.sort();
        (String::from_utf8_lossy(&out.stdout).to_string(), v)
    };
    let (report_a, a) = titles("3");
    let (report_b, b) = titles("3");
    let (_, c) = titles("4");
    assert_eq!(a.len(), 20);
    assert_eq!(a, b);
    assert_eq!(report_a, report_b);
    assert_ne!(a, c);
}

/// A tiny blocking GET for tests that run outside an async runtime.
fn blocking_get(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

#[test]
fn nave_worker_runs_until_terminated_and_then_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = nave(dir.path()).arg("worker").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("Nave worker "), "{line}");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}
