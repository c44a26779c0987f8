//! The HTTP edge: routes, extractors, pages, the JSON API and error rendering.

pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
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

/// Question pages as anonymous visitors see them, keyed by the thread's version. Every change
/// to a thread bumps its version in the database, so a node serves a cached page only after one
/// cheap query confirms it is current; entries also expire so relative times stay fresh.
pub struct PageCache {
    inner: Mutex<HashMap<i64, CachedPage>>,
    capacity: usize,
    max_age: std::time::Duration,
}

struct CachedPage {
    version: i64,
    html: actix_web::web::Bytes,
    at: std::time::Instant,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache { inner: Mutex::new(HashMap::new()), capacity: 2000, max_age: std::time::Duration::from_secs(60) }
    }
}

impl PageCache {
    pub fn get(&self, id: i64, version: i64) -> Option<actix_web::web::Bytes> {
        let g = self.inner.lock().ok()?;
        g.get(&id).filter(|c| c.version == version && c.at.elapsed() < self.max_age).map(|c| c.html.clone())
    }

    pub fn put(&self, id: i64, version: i64, html: actix_web::web::Bytes) {
        if let Ok(mut g) = self.inner.lock() {
            if g.len() >= self.capacity && !g.contains_key(&id) {
                // Drop the oldest entry; a linear scan is cheap at this size.
                if let Some(oldest) = g.iter().min_by_key(|(_, c)| c.at).map(|(k, _)| *k) {
                    g.remove(&oldest);
                }
            }
            g.insert(id, CachedPage { version, html, at: std::time::Instant::now() });
        }
    }
}
