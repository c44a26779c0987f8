//! Settings: embedded defaults, overlaid by an optional `nave.toml`, overlaid by `NAVE_*`
//! environment variables. A wrong value stops start-up with a message naming the setting.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every setting, with the name users write it under and what it accepts (for errors and the README).
pub const SETTINGS: &[(&str, &str, &str)] = &[
    (
        "NAVE_CONFIG",
        "path to a TOML file with the settings below (keys in lower case without the NAVE_ prefix)",
        "./nave.toml if it exists",
    ),
    ("NAVE_DATA_DIR", "folder for the SQLite file, the session key and local mail", "./data"),
    ("NAVE_DATABASE_URL", "sqlite://PATH or postgres://USER@HOST:PORT/DB", "sqlite://<data dir>/nave.db"),
    ("NAVE_BIND", "address and port to listen on (port 0 picks a free one)", "127.0.0.1:8080"),
    (
        "NAVE_BASE_URL",
        "public URL of the site, http:// or https:// (https makes cookies Secure)",
        "http://<bind address>",
    ),
    ("NAVE_SITE_NAME", "name shown in the header, titles and feeds", "Nave"),
    (
        "NAVE_SESSION_KEY",
        "64 hex characters used to sign CSRF tokens",
        "generated on first start into <data dir>/session.key (mode 0600)",
    ),
    ("NAVE_SESSION_IDLE_MINUTES", "minutes of inactivity after which a session ends (1..=525600)", "20160 (14 days)"),
    ("NAVE_DB_POOL_SIZE", "database connections per node (1..=256)", "16"),
    ("NAVE_HTTP_WORKERS", "HTTP worker threads (0 = one per core)", "0"),
    ("NAVE_LOG", "log filter, tracing EnvFilter syntax", "info"),
    ("NAVE_LOG_FORMAT", "text or json", "text"),
    ("NAVE_RATE_LOGIN_PER_MINUTE", "log-in attempts per client address per minute (1..=1000000)", "10"),
    ("NAVE_RATE_SIGNUP_PER_HOUR", "sign-ups per client address per hour (1..=1000000)", "20"),
    ("NAVE_RATE_POSTS_PER_MINUTE", "questions, answers, comments and edits per user per minute (1..=1000000)", "10"),
    (
        "NAVE_JOBS_IN_SERVE",
        "true or false: run background jobs inside `nave serve` (turn off when `nave worker` processes run them)",
        "true",
    ),
    ("NAVE_JOB_WORKERS", "background jobs run at once per process (1..=64)", "2"),
    (
        "NAVE_JOB_LEASE_SECONDS",
        "seconds a claimed job stays with its worker before another worker may take it (5..=86400)",
        "300",
    ),
    ("NAVE_JOB_POLL_MS", "milliseconds an idle job worker sleeps before looking for work again (10..=60000)", "500"),
    ("NAVE_SMTP_URL", "smtp://[user:password@]host[:port][?tls=required] (STARTTLS) or smtps://… (implicit TLS); unset writes mail to <data dir>/mail", "unset"),
    ("NAVE_MAIL_FROM", "sender mailbox, e.g. Nave <help@example.com>", "Nave <nave@localhost>"),
    (
        "NAVE_REPUTATION",
        "reputation values as name=value pairs, comma-separated: question_upvoted, answer_upvoted, answer_accepted, accepted_answer, post_downvoted, downvoted_answer, edit_approved, daily_cap",
        "question_upvoted=10,answer_upvoted=10,answer_accepted=15,accepted_answer=2,post_downvoted=-2,downvoted_answer=-1,edit_approved=2,daily_cap=200",
    ),
    (
        "NAVE_PRIVILEGES",
        "reputation each privilege needs, name=reputation pairs: vote_up, flag, comment_everywhere, set_bounty, vote_down, create_tags, review_queue, see_vote_splits, edit_freely, vote_to_close, superuser",
        "vote_up=15,flag=15,comment_everywhere=50,set_bounty=75,vote_down=125,create_tags=300,review_queue=500,see_vote_splits=1000,edit_freely=1000,vote_to_close=1000,superuser=2000",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: SocketAddr,
    /// Base URL without a trailing slash. `None` means "derive from the bound address".
    pub base_url: Option<String>,
    pub site_name: String,
    pub session_key: Option<[u8; 32]>,
    pub session_idle_minutes: i64,
    pub db_pool_size: u32,
    pub http_workers: usize,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub rate_login_per_minute: u32,
    pub rate_signup_per_hour: u32,
    pub rate_posts_per_minute: u32,
    pub jobs_in_serve: bool,
    pub job_workers: usize,
    /// How long a claim lasts before another worker may take the job.
    pub job_lease_seconds: u64,
    /// How long an idle worker sleeps before looking again.
    pub job_poll_ms: u64,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// Reputation values and privilege thresholds.
    pub policy: crate::reputation::Policy,
}

/// A setting that could not be used, naming it and what it accepts.
#[derive(Debug, thiserror::Error)]
#[error("setting {name} = {value:?} is not valid: expected {expected}")]
pub struct SettingError {
    pub name: String,
    pub value: String,
    pub expected: String,
}

impl Settings {
    /// Defaults for the embedded mode, rooted at `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Settings {
            database_url: format!("sqlite://{}", data_dir.join("nave.db").display()),
            data_dir,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            site_name: "Nave".into(),
            session_key: None,
            session_idle_minutes: 20160,
            db_pool_size: 16,
            http_workers: 0,
            log_filter: "info".into(),
            log_format: LogFormat::Text,
            rate_login_per_minute: 10,
            rate_signup_per_hour: 20,
            rate_posts_per_minute: 10,
            jobs_in_serve: true,
            job_workers: 2,
            job_lease_seconds: 300,
            job_poll_ms: 500,
            smtp_url: None,
            mail_from: "Nave <nave@localhost>".into(),
            policy: Default::default(),
        }
    }

    /// Reads `nave.toml` (if any) and the process environment.
    pub fn load() -> Result<Self, SettingError> {
        let env: BTreeMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("NAVE_")).collect();
        Self::from_sources(env)
    }

    /// Builds settings from environment-style pairs (`NAVE_X` → value), reading the TOML file they name.
    pub fn from_sources(env: BTreeMap<String, String>) -> Result<Self, SettingError> {
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let explicit = env.get("NAVE_CONFIG").cloned();
        let path = explicit.clone().unwrap_or_else(|| "nave.toml".into());
        if Path::new(&path).exists() {
            values.extend(read_toml(&path)?);
        } else if explicit.is_some() {
            return Err(err("NAVE_CONFIG", &path, "the path of an existing TOML file"));
        }
        values.extend(env);

        let data_dir = PathBuf::from(values.get("NAVE_DATA_DIR").cloned().unwrap_or_else(|| "./data".into()));
        let mut s = Settings::embedded(data_dir);
        for (name, value) in &values {
            s.apply(name, value)?;
        }
        Ok(s)
    }

    fn apply(&mut self, name: &str, value: &str) -> Result<(), SettingError> {
        let expected = || SETTINGS.iter().find(|(n, _, _)| *n == name).map(|(_, e, _)| *e).unwrap_or("");
        let bad = || err(name, value, expected());
        match name {
            "NAVE_CONFIG" | "NAVE_DATA_DIR" => {}
            "NAVE_DATABASE_URL" => {
                let ok = value.starts_with("sqlite://")
                    || value.starts_with("postgres://")
                    || value.starts_with("postgresql://");
                if !ok || value.len() <= "sqlite://".len() {
                    return Err(bad());
                }
                self.database_url = value.to_string();
            }
            "NAVE_BIND" => self.bind = value.parse().map_err(|_| bad())?,
            "NAVE_BASE_URL" => {
                let v = value.trim_end_matches('/');
                let ok = (v.starts_with("http://") || v.starts_with("https://"))
                    && v.split("://").nth(1).is_some_and(|h| !h.is_empty());
                if !ok {
                    return Err(bad());
                }
                self.base_url = Some(v.to_string());
            }
            "NAVE_SITE_NAME" => {
                if value.trim().is_empty() || value.len() > 60 {
                    return Err(err(name, value, "1 to 60 characters"));
                }
                self.site_name = value.trim().to_string();
            }
            "NAVE_SESSION_KEY" => {
                let bytes = hex::decode(value).map_err(|_| bad())?;
                self.session_key = Some(bytes.try_into().map_err(|_| bad())?);
            }
            "NAVE_SESSION_IDLE_MINUTES" => {
                self.session_idle_minutes = parse_range(value, 1, 525_600).ok_or_else(bad)?
            }
            "NAVE_DB_POOL_SIZE" => self.db_pool_size = parse_range(value, 1, 256).ok_or_else(bad)? as u32,
            "NAVE_HTTP_WORKERS" => self.http_workers = parse_range(value, 0, 1024).ok_or_else(bad)? as usize,
            "NAVE_LOG" => self.log_filter = value.to_string(),
            "NAVE_LOG_FORMAT" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(bad()),
                }
            }
            "NAVE_RATE_LOGIN_PER_MINUTE" => {
                self.rate_login_per_minute = parse_range(value, 1, 1_000_000).ok_or_else(bad)? as u32
            }
            "NAVE_RATE_SIGNUP_PER_HOUR" => {
                self.rate_signup_per_hour = parse_range(value, 1, 1_000_000).ok_or_else(bad)? as u32
            }
            "NAVE_RATE_POSTS_PER_MINUTE" => {
                self.rate_posts_per_minute = parse_range(value, 1, 1_000_000).ok_or_else(bad)? as u32
            }
            "NAVE_JOBS_IN_SERVE" => {
                self.jobs_in_serve = match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad()),
                }
            }
            "NAVE_SMTP_URL" => {
                if !(value.starts_with("smtp://") || value.starts_with("smtps://")) {
                    return Err(bad());
                }
                self.smtp_url = Some(value.to_string());
            }
            "NAVE_MAIL_FROM" => {
                value.parse::<lettre::message::Mailbox>().map_err(|_| bad())?;
                self.mail_from = value.to_string();
            }
            "NAVE_REPUTATION" => {
                self.policy.rules = crate::reputation::Rules::parse(value).map_err(|e| err(name, value, &e))?
            }
            "NAVE_PRIVILEGES" => {
                self.policy.privileges =
                    crate::reputation::privileges::Privileges::parse(value).map_err(|e| err(name, value, &e))?
            }
            "NAVE_JOB_WORKERS" => self.job_workers = parse_range(value, 1, 64).ok_or_else(bad)? as usize,
            "NAVE_JOB_LEASE_SECONDS" => self.job_lease_seconds = parse_range(value, 5, 86_400).ok_or_else(bad)? as u64,
            "NAVE_JOB_POLL_MS" => self.job_poll_ms = parse_range(value, 10, 60_000).ok_or_else(bad)? as u64,
            _ => {
                return Err(err(name, value, "a known setting name (see the README's table of settings)"));
            }
        }
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite://")
    }
}

/// `scheme://user:password@host` → `scheme://user:***@host`, so errors never print a password.
pub fn mask_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    match rest.split_once('@') {
        Some((creds, host)) => {
            let user = creds.split(':').next().unwrap_or("");
            let masked = if creds.contains(':') { format!("{user}:***") } else { user.to_string() };
            format!("{scheme}://{masked}@{host}")
        }
        None => url.to_string(),
    }
}

fn parse_range(value: &str, min: i64, max: i64) -> Option<i64> {
    value.trim().parse::<i64>().ok().filter(|v| (min..=max).contains(v))
}

fn err(name: &str, value: &str, expected: &str) -> SettingError {
    let shown = match name {
        "NAVE_SESSION_KEY" => "(hidden)".to_string(),
        _ => mask_credentials(value),
    };
    SettingError { name: name.to_string(), value: shown, expected: expected.to_string() }
}

fn read_toml(path: &str) -> Result<BTreeMap<String, String>, SettingError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| err("NAVE_CONFIG", path, &format!("a readable file ({e})")))?;
    let table: toml::Table = text.parse().map_err(|e| err("NAVE_CONFIG", path, &format!("valid TOML ({e})")))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let name = format!("NAVE_{}", key.to_ascii_uppercase());
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => return Err(err(&name, &format!("{other:?}"), "a string, integer or boolean")),
        };
        out.insert(name, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, SettingError> {
        let mut env: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.entry("NAVE_CONFIG".into()).or_insert_with(|| "/nonexistent-but-ignored".into());
        env.remove("NAVE_CONFIG");
        Settings::from_sources(env)
    }

    #[test]
    fn defaults_are_embedded_sqlite_on_localhost_8080() {
        let s = with(&[]).unwrap();
        assert!(s.is_sqlite());
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn a_wrong_setting_names_itself_and_what_it_accepts() {
        let e = with(&[("NAVE_BIND", "localhost")]).unwrap_err();
        assert_eq!(e.name, "NAVE_BIND");
        assert!(e.to_string().contains("address and port"), "{e}");
        let e = with(&[("NAVE_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(e.to_string().contains("sqlite://PATH"), "{e}");
        let e = with(&[("NAVE_LOG_FORMAT", "xml")]).unwrap_err();
        assert!(e.to_string().contains("text or json"), "{e}");
    }

    #[test]
    fn mail_settings_are_checked() {
        assert!(with(&[("NAVE_SMTP_URL", "smtp://mail.example.com:587?tls=required")]).is_ok());
        let e = with(&[("NAVE_SMTP_URL", "http://mail.example.com")]).unwrap_err();
        assert!(e.to_string().contains("smtp://"), "{e}");
        let e = with(&[("NAVE_MAIL_FROM", "not a mailbox")]).unwrap_err();
        assert_eq!(e.name, "NAVE_MAIL_FROM");
        assert!(with(&[("NAVE_MAIL_FROM", "Help <help@example.com>")]).is_ok());
    }

    #[test]
    fn job_lease_and_poll_are_checked() {
        let s = with(&[]).unwrap();
        assert_eq!((s.job_lease_seconds, s.job_poll_ms), (300, 500));
        let s = with(&[("NAVE_JOB_LEASE_SECONDS", "5"), ("NAVE_JOB_POLL_MS", "60000")]).unwrap();
        assert_eq!((s.job_lease_seconds, s.job_poll_ms), (5, 60_000));
        assert!(with(&[("NAVE_JOB_LEASE_SECONDS", "86400"), ("NAVE_JOB_POLL_MS", "10")]).is_ok());
        for (name, value) in [
            ("NAVE_JOB_LEASE_SECONDS", "4"),
            ("NAVE_JOB_LEASE_SECONDS", "86401"),
            ("NAVE_JOB_POLL_MS", "9"),
            ("NAVE_JOB_POLL_MS", "1s"),
        ] {
            let e = with(&[(name, value)]).unwrap_err();
            assert_eq!(e.name, name);
            assert!(e.to_string().contains(if name == "NAVE_JOB_POLL_MS" { "10..=60000" } else { "5..=86400" }), "{e}");
        }
    }

    #[test]
    fn an_unknown_setting_is_refused() {
        let e = with(&[("NAVE_BINDD", "x")]).unwrap_err();
        assert_eq!(e.name, "NAVE_BINDD");
    }

    #[test]
    fn database_passwords_are_never_echoed() {
        let e = with(&[("NAVE_DATABASE_URL", "mysql://bob:hunter2@db/x")]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("bob:***@db"), "{e}");
    }

    #[test]
    fn the_session_key_is_never_echoed() {
        let e = with(&[("NAVE_SESSION_KEY", "secret-ish")]).unwrap_err();
        assert!(!e.to_string().contains("secret-ish"));
    }
}
