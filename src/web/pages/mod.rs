//! Server-rendered pages. Every action works without JavaScript.

pub mod accounts;
pub mod admin;
pub mod home;
pub mod moderation;
pub mod notifications;
pub mod questions;
pub mod review;
pub mod seo;

use serde::Deserialize;

pub const PER_PAGE: i64 = 30;

/// `?page=N`, at least 1.
#[derive(Debug, Deserialize, Default)]
pub struct Paging {
    pub page: Option<String>,
    pub tab: Option<String>,
    pub sort: Option<String>,
}

impl Paging {
    pub fn page(&self) -> i64 {
        self.page.as_deref().and_then(|p| p.parse::<i64>().ok()).filter(|p| (1..=100_000).contains(p)).unwrap_or(1)
    }
}

/// Numbers for a pager: current page, last page, and whether there are neighbours.
#[derive(serde::Serialize)]
pub struct Pager {
    pub page: i64,
    pub last: i64,
    pub prev: Option<i64>,
    pub next: Option<i64>,
    pub total: i64,
}

impl Pager {
    pub fn new(page: i64, total: i64, per_page: i64) -> Self {
        let last = ((total + per_page - 1) / per_page).max(1);
        Pager { page, last, prev: (page > 1).then(|| page - 1), next: (page < last).then(|| page + 1), total }
    }
}
