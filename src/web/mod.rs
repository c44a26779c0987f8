//! The HTTP edge: routes, extractors, pages, the JSON API and error rendering.

pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
pub mod metrics;
pub mod pages;
pub mod routes;
pub mod templates;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;

use actix_web::HttpRequest;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::db::{DbConnection, DbPool};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// Everything a handler needs, built once at start-up.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    /// Public URL without a trailing slash.
    pub base_url: String,
    pub secure_cookies: bool,
    /// Key for signing CSRF tokens.
    pub key: [u8; 32],
    pub tera: tera::Tera,
    pub assets: assets::Assets,
    pub limits: Limits,
    pub views: ViewBuffer,
    pub pages: PageCache,
    pub requests: metrics::RequestMetrics,
}

impl AppState {
    /// Runs blocking database work on the blocking thread pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Rate limits on log-in, sign-up and posting.
pub struct Limits {
    pub login: DefaultKeyedRateLimiter<IpAddr>,
    pub signup: DefaultKeyedRateLimiter<IpAddr>,
    pub posts: DefaultKeyedRateLimiter<i64>,
}

impl Limits {
    pub fn new(s: &Settings) -> Self {
        let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        Limits {
            login: governor::RateLimiter::keyed(Quota::per_minute(n(s.rate_login_per_minute))),
            signup: governor::RateLimiter::keyed(Quota::per_hour(n(s.rate_signup_per_hour))),
            posts: governor::RateLimiter::keyed(Quota::per_minute(n(s.rate_posts_per_minute))),
        }
    }

    fn check<K: std::hash::Hash + Eq + Clone>(l: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<()> {
        l.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            Error::RateLimited { retry_after_secs: wait.as_secs().max(1) }
        })
    }
    pub fn login(&self, ip: IpAddr) -> Result<()> {
        Self::check(&self.login, &ip)
    }
    pub fn signup(&self, ip: IpAddr) -> Result<()> {
        Self::check(&self.signup, &ip)
    }
    pub fn post(&self, user_id: i64) -> Result<()> {
        Self::check(&self.posts, &user_id)
    }
}

/// The client's address (the peer; put a trusted proxy's header handling here when needed).
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// Page views counted in memory and written in one batch every few seconds,
/// so that reading a question is not a database write. One view per client per flush.
#[derive(Default)]
pub struct ViewBuffer {
    inner: Mutex<ViewCounts>,
}

/// Views per question since the last flush, and which clients were already counted.
type ViewCounts = (HashMap<i64, i64>, HashSet<(IpAddr, i64)>);

impl ViewBuffer {
    pub fn record(&self, ip: IpAddr, question_id: i64) {
        if let Ok(mut g) = self.inner.lock() {
            if g.1.insert((ip, question_id)) {
                *g.0.entry(question_id).or_insert(0) += 1;
            }
        }
    }
    pub fn take(&self) -> HashMap<i64, i64> {
        match self.inner.lock() {
            Ok(mut g) => {
                g.1.clear();
                std::mem::take(&mut g.0)
            }
            Err(_) => HashMap::new(),
        }
    }
}

/// Writes buffered view counts.
pub async fn flush_views(state: &AppState) {
    let counts = state.views.take();
    if counts.is_empty() {
        return;
    }
    if let Err(e) = state.db(move |c| crate::qa::thread::add_views(c, &counts)).await {
        tracing::warn!(error = %e, "could not write view counts");
    }
}

/// Pages as anonymous visitors see them. Question pages are keyed by the thread's version:
/// every change to a thread bumps it in the database, and a write on this node drops the entry
/// at once; a change made through another node is noticed by re-checking the version at most
/// once a second. Lists (home, tags) are kept for two seconds and dropped on any local write.
/// Entries expire after a minute so relative times ("5 minutes ago") stay right.
pub struct PageCache {
    threads: Mutex<ThreadPages>,
    lists: Mutex<HashMap<String, CachedPage>>,
    capacity: usize,
}

#[derive(Default)]
struct ThreadPages {
    pages: HashMap<i64, CachedPage>,
    /// Which cached thread each answer appears in, so a change to an answer drops its page.
    owner: HashMap<i64, i64>,
}

impl ThreadPages {
    fn remove(&mut self, thread_id: i64) {
        if let Some(page) = self.pages.remove(&thread_id) {
            for p in page.posts {
                self.owner.remove(&p);
            }
        }
    }
}

struct CachedPage {
    version: i64,
    /// The thread's slug, so a wrong slug never gets the cached page instead of a redirect.
    slug: String,
    /// Answers on the page.
    posts: Vec<i64>,
    html: actix_web::web::Bytes,
    created: std::time::Instant,
    checked: std::time::Instant,
}

impl CachedPage {
    fn new(version: i64, slug: &str, posts: Vec<i64>, html: actix_web::web::Bytes) -> Self {
        let now = std::time::Instant::now();
        CachedPage { version, slug: slug.to_string(), posts, html, created: now, checked: now }
    }
}

const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);
const LIST_AGE: std::time::Duration = std::time::Duration::from_secs(2);

impl Default for PageCache {
    fn default() -> Self {
        PageCache { threads: Mutex::new(ThreadPages::default()), lists: Mutex::new(HashMap::new()), capacity: 2000 }
    }
}

impl PageCache {
    /// A thread's page when it was confirmed current less than a second ago.
    pub fn thread_fresh(&self, id: i64, slug: &str) -> Option<actix_web::web::Bytes> {
        let g = self.threads.lock().ok()?;
        g.pages
            .get(&id)
            .filter(|c| c.slug == slug && c.checked.elapsed() < RECHECK && c.created.elapsed() < MAX_AGE)
            .map(|c| c.html.clone())
    }

    /// A thread's page if it is at `version` (just read from the database).
    pub fn thread_at(&self, id: i64, version: i64) -> Option<actix_web::web::Bytes> {
        let mut g = self.threads.lock().ok()?;
        let c = g.pages.get_mut(&id).filter(|c| c.version == version && c.created.elapsed() < MAX_AGE)?;
        c.checked = std::time::Instant::now();
        Some(c.html.clone())
    }

    pub fn put_thread(&self, id: i64, version: i64, slug: &str, answers: Vec<i64>, html: actix_web::web::Bytes) {
        if let Ok(mut g) = self.threads.lock() {
            g.remove(id);
            if g.pages.len() >= self.capacity {
                if let Some(oldest) = g.pages.iter().min_by_key(|(_, c)| c.created).map(|(k, _)| *k) {
                    g.remove(oldest);
                }
            }
            for a in &answers {
                g.owner.insert(*a, id);
            }
            g.pages.insert(id, CachedPage::new(version, slug, answers, html));
        }
    }

    pub fn list(&self, key: &str) -> Option<actix_web::web::Bytes> {
        let g = self.lists.lock().ok()?;
        g.get(key).filter(|c| c.created.elapsed() < LIST_AGE).map(|c| c.html.clone())
    }

    pub fn put_list(&self, key: String, html: actix_web::web::Bytes) {
        if let Ok(mut g) = self.lists.lock() {
            if g.len() >= self.capacity {
                g.clear();
            }
            g.insert(key, CachedPage::new(0, "", Vec::new(), html));
        }
    }

    /// Called after every write on this node with the id of any post in the thread it touched:
    /// that thread's page and every list are dropped.
    pub fn changed(&self, post_id: i64) {
        if let Ok(mut g) = self.threads.lock() {
            let thread = g.owner.get(&post_id).copied().unwrap_or(post_id);
            g.remove(thread);
        }
        if let Ok(mut g) = self.lists.lock() {
            g.clear();
        }
    }
}
