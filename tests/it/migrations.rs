//! The two migration trees stay in lockstep, and both run up → down → up.

use crate::helpers::*;
use nave::db::{self, DbUrl};

fn names(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn sqlite_and_postgres_migrations_have_the_same_names_and_files() {
    let root = env!("CARGO_MANIFEST_DIR");
    let sqlite = names(&format!("{root}/migrations/sqlite"));
    let postgres = names(&format!("{root}/migrations/postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres differ");
    for m in &sqlite {
        for f in ["up.sql", "down.sql"] {
            assert!(std::path::Path::new(&format!("{root}/migrations/sqlite/{m}/{f}")).exists(), "sqlite {m}/{f}");
            assert!(std::path::Path::new(&format!("{root}/migrations/postgres/{m}/{f}")).exists(), "postgres {m}/{f}");
        }
    }
}

fn up_down_up(url: &DbUrl) {
    let first = db::run_migrations(url).expect("up");
    assert!(!first.is_empty());
    db::revert_all_migrations(url).expect("down");
    let again = db::run_migrations(url).expect("up again");
    assert_eq!(first, again);
    assert!(db::run_migrations(url).expect("nothing pending").is_empty());
}

#[test]
fn sqlite_migrations_run_up_down_up() {
    let dir = tempfile::tempdir().unwrap();
    up_down_up(&DbUrl::Sqlite(dir.path().join("m.db").display().to_string()));
}

#[test]
fn postgres_migrations_run_up_down_up() {
    let Some(pg) = PgDatabase::create() else { return };
    up_down_up(&DbUrl::Postgres(pg.url.clone()));
}

#[test]
fn two_nodes_migrating_at_once_do_not_race() {
    let Some(pg) = PgDatabase::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    for url in [DbUrl::Postgres(pg.url.clone()), DbUrl::Sqlite(dir.path().join("race.db").display().to_string())] {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let u = url.clone();
                std::thread::spawn(move || db::run_migrations(&u).map(|v| v.len()))
            })
            .collect();
        let applied: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap().expect("no migration error")).collect();
        assert_eq!(applied.iter().filter(|n| **n > 0).count(), 1, "exactly one node applied them: {applied:?}");
    }
}

#[test]
fn a_bad_database_url_names_the_setting() {
    let e = nave::settings::Settings::from_sources(
        [("NAVE_DATABASE_URL".to_string(), "mysql://x".to_string())].into_iter().collect(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("NAVE_DATABASE_URL"));
}
