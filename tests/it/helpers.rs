//! The test harness: the real app on port 0 against a fresh SQLite file or a fresh
//! PostgreSQL database (dropped afterwards), and one helper per endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use nave::settings::Settings;
use nave::startup::Application;
use reqwest::redirect::Policy;
use serde_json::{json, Value};

// No TLS to the local server: libpq would otherwise set up OpenSSL for every connection, and a
// pool thread reconnecting to a dropped test database while the process exits raced OpenSSL's
// exit-time cleanup (a SIGSEGV after all tests had passed).
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
pub const PASSWORD: &str = "a long enough password";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one behaviour test on both backends: `both!(name, |app| async move { ... });`
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// Like [`both!`], with settings changed first: `both_with!(name, |s| s.x = 1, |app| async move { ... });`
#[macro_export]
macro_rules! both_with {
    ($name:ident, $tweak:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Backend::Sqlite, $tweak).await {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Backend::Postgres, $tweak).await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// A PostgreSQL database made for one test and dropped with it.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates a fresh database, or `None` (with a loud message) when no server answers.
    /// Under CI (`CI=true`) a missing server fails the test instead.
    pub fn create() -> Option<PgDatabase> {
        static N: AtomicU64 = AtomicU64::new(0);
        let mut admin = match PgConnection::establish(PG_ADMIN_URL) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("PostgreSQL is required under CI but {PG_ADMIN_URL} did not answer: {e}");
                }
                eprintln!("\n!!!!! SKIPPED: PostgreSQL variant, because {PG_ADMIN_URL} did not answer: {e} !!!!!\n");
                return None;
            }
        };
        let name = format!("nave_test_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst), rand_suffix());
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
        Some(PgDatabase { url: format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable"), name })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(PG_ADMIN_URL) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos() as u64).unwrap_or(0)
}

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub settings: Settings,
    server: actix_web::dev::ServerHandle,
    // Kept for the test's lifetime: the SQLite file's folder and the PostgreSQL database.
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// Settings for a test: port 0, generous rate limits unless a test lowers them.
pub fn test_settings(dir: &std::path::Path, database_url: &str) -> Settings {
    let mut s = Settings::embedded(dir);
    s.bind = "127.0.0.1:0".parse().expect("address");
    s.database_url = database_url.to_string();
    s.db_pool_size = 4;
    s.http_workers = 2;
    s.rate_login_per_minute = 10_000;
    s.rate_signup_per_hour = 10_000;
    s.rate_posts_per_minute = 10_000;
    // Behaviour tests act as people who may do everything; privilege tests restore the defaults.
    s.policy.privileges = nave::reputation::privileges::Privileges::all_at(0);
    // Tests run jobs themselves (see `jobs.rs`), so a job never outlives its test's database.
    s.jobs_in_serve = false;
    s
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = match backend {
        Backend::Postgres => Some(PgDatabase::create()?),
        Backend::Sqlite => None,
    };
    let database_url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", dir.path().join("test.db").display()),
    };
    let mut settings = test_settings(dir.path(), &database_url);
    tweak(&mut settings);
    let app = Application::build(settings.clone()).await.expect("app builds");
    let address = app.base_url().to_string();
    let server = app.server_handle();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp { address, database_url, settings, server, _dir: dir, _pg: pg })
}

/// A browser-like client: keeps cookies, does not follow redirects (tests check them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client")
}

/// The value of the first `name="csrf_token"` field in a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("page has a CSRF field");
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

/// A user of the site: a browser session and an API token.
pub struct Person {
    pub id: i64,
    pub browser: reqwest::Client,
    pub token: String,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; the server's workers wind down and drop their pools.
        drop(self.server.stop(false));
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A pool on the app's database, for looking behind the scenes.
    pub fn pool(&self) -> nave::db::DbPool {
        let url = nave::db::DbUrl::parse(&self.database_url).expect("database url");
        nave::db::build_pool(&url, 4).expect("pool")
    }

    /// Runs the app's background jobs (as `nave serve` would) until none is due or running;
    /// a job that failed makes the test fail.
    pub async fn run_jobs(&self) {
        use diesel::prelude::*;
        use nave::db::schema::jobs as j;
        let pool = self.pool();
        let registry = nave::startup::job_registry(&self.settings, &self.address).expect("registry");
        let runner = nave::jobs::Runner::start(pool.clone(), registry, crate::jobs::fast());
        let busy = |pool: &nave::db::DbPool| -> i64 {
            j::table
                .filter(j::state.eq_any(["pending", "running"]))
                .filter(j::run_at.le(nave::accounts::now()))
                .count()
                .get_result(&mut pool.get().unwrap())
                .unwrap()
        };
        crate::jobs::wait_until(|| busy(&pool) == 0).await;
        runner.shutdown().await;
        let errors: Vec<(String, Option<String>)> = j::table
            .filter(j::last_error.is_not_null())
            .select((j::name, j::last_error))
            .load(&mut pool.get().unwrap())
            .unwrap();
        assert!(errors.is_empty(), "jobs failed: {errors:?}");
    }

    /// The `.eml` files the folder transport wrote, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut paths: Vec<_> = std::fs::read_dir(self._dir.path().join("mail"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|x| x == "eml"));
        paths.sort();
        paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }

    /// Marks a person's address confirmed (as following the mailed link would).
    pub fn confirm_email(&self, who: &Person) {
        use diesel::prelude::*;
        use nave::db::schema::users;
        diesel::update(users::table.find(who.id))
            .set(users::email_verified_at.eq(Some(nave::accounts::now())))
            .execute(&mut self.pool().get().unwrap())
            .unwrap();
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, client: &reqwest::Client, path: &str) -> String {
        self.get(client, path).await.text().await.expect("body")
    }

    /// Posts a form the way a browser would: CSRF token taken from `form_page`.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = self.get_html(client, form_page).await;
        let token = csrf_from(&html);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        client.post(self.url(action)).form(&all).send().await.expect("POST")
    }

    pub async fn signup_form(
        &self,
        client: &reqwest::Client,
        username: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.post_form(
            client,
            "/signup",
            "/signup",
            &[("username", username), ("email", email), ("password", password)],
        )
        .await
    }

    pub async fn login_form(&self, client: &reqwest::Client, login: &str, password: &str) -> reqwest::Response {
        self.post_form(client, "/login", "/login", &[("login", login), ("password", password)]).await
    }

    // ---- API helpers ----

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = reqwest::Client::new().request(method, self.url(&format!("/api/v1{path}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("API request")
    }

    pub async fn api_signup(&self, username: &str) -> reqwest::Response {
        self.api(
            reqwest::Method::POST,
            "/users",
            None,
            Some(json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD})),
        )
        .await
    }

    pub async fn api_token(&self, login: &str, password: &str) -> reqwest::Response {
        self.api(reqwest::Method::POST, "/tokens", None, Some(json!({"login": login, "password": password}))).await
    }

    /// Signs a person up through the browser and also gets them an API token.
    pub async fn person(&self, name: &str) -> Person {
        let browser = browser();
        let res = self.signup_form(&browser, name, &format!("{name}@example.com"), PASSWORD).await;
        assert_eq!(res.status(), 303, "sign-up of {name} redirects");
        let token: Value = self.api_token(name, PASSWORD).await.json().await.expect("token json");
        Person {
            id: token["user"]["id"].as_i64().expect("user id"),
            browser,
            token: token["token"].as_str().expect("token").to_string(),
        }
    }

    pub async fn api_ask(&self, who: &Person, title: &str, body: &str, tags: &[&str]) -> reqwest::Response {
        self.api(
            reqwest::Method::POST,
            "/questions",
            Some(&who.token),
            Some(json!({"title": title, "body": body, "tags": tags})),
        )
        .await
    }

    /// Asks a valid question and returns its JSON.
    pub async fn question(&self, who: &Person) -> Value {
        let res = self
            .api_ask(
                who,
                "How do I reset my router to factory settings?",
                "I tried holding the button but nothing happens at all.",
                &["router", "setup"],
            )
            .await;
        assert_eq!(res.status(), 201);
        res.json().await.expect("question json")
    }

    pub async fn api_answer(&self, who: &Person, question_id: i64, body: &str) -> reqwest::Response {
        self.api(
            reqwest::Method::POST,
            &format!("/questions/{question_id}/answers"),
            Some(&who.token),
            Some(json!({"body": body})),
        )
        .await
    }

    /// Answers with a valid body and returns the answer's JSON.
    pub async fn answer(&self, who: &Person, question_id: i64) -> Value {
        let res = self.api_answer(who, question_id, "Hold it for a full ten seconds, until the light blinks.").await;
        assert_eq!(res.status(), 201);
        res.json().await.expect("answer json")
    }

    pub async fn api_vote(&self, who: &Person, kind: &str, id: i64, value: i64) -> reqwest::Response {
        self.api(reqwest::Method::PUT, &format!("/{kind}/{id}/vote"), Some(&who.token), Some(json!({"value": value})))
            .await
    }

    pub async fn api_get_question(&self, id: i64) -> reqwest::Response {
        self.api(reqwest::Method::GET, &format!("/questions/{id}"), None, None).await
    }
}

/// Asserts a response is a problem object with this status and code; returns it.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(ct.starts_with("application/problem+json"), "content type {ct}");
    let body: Value = res.json().await.expect("problem json");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    body
}
