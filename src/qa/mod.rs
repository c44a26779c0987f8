//! Questions, answers, comments, votes, revisions and tags: the hub's domain services.
//! Each write runs in one transaction; reads return view structs that serialise for
//! both the HTML templates and the JSON API.

pub mod listing;
pub mod posts;
pub mod tags;
pub mod thread;
pub mod votes;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::db::schema::posts as posts_t;

pub const QUESTION: &str = "question";
pub const ANSWER: &str = "answer";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts_t)]
pub struct Post {
    pub id: i64,
    pub kind: String,
    pub question_id: Option<i64>,
    pub author_id: i64,
    pub title: Option<String>,
    pub slug: String,
    pub body_md: String,
    pub body_html: String,
    pub score: i64,
    pub view_count: i64,
    pub answer_count: i64,
    pub accepted_answer_id: Option<i64>,
    pub source: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
    pub version: i64,
    pub hidden_at: Option<NaiveDateTime>,
    pub hidden_reason: Option<String>,
    pub locked_at: Option<NaiveDateTime>,
    pub locked_reason: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub close_reason: Option<String>,
    pub duplicate_of: Option<i64>,
    pub pinned_at: Option<NaiveDateTime>,
}

impl Post {
    pub fn is_question(&self) -> bool {
        self.kind == QUESTION
    }
    /// The id of the thread this post belongs to.
    pub fn thread_id(&self) -> i64 {
        self.question_id.unwrap_or(self.id)
    }
}

/// A user as shown beside a post.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: i64,
    pub username: String,
    pub reputation: i64,
    pub role: String,
    /// Path of the public profile page.
    pub path: String,
    /// Badges by tier: gold, silver, bronze.
    pub badges: [i64; 3],
}

impl From<&User> for UserRef {
    fn from(u: &User) -> Self {
        UserRef {
            id: u.id,
            username: u.username.clone(),
            reputation: u.reputation,
            role: u.role.clone(),
            path: u.path(),
            badges: [u.badges_gold, u.badges_silver, u.badges_bronze],
        }
    }
}

/// A time as the templates and API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Time {
    /// RFC 3339, UTC.
    pub iso: String,
    /// e.g. "5 minutes ago" or "Nov 3, 2026".
    pub human: String,
}

impl From<NaiveDateTime> for Time {
    fn from(t: NaiveDateTime) -> Self {
        let now = chrono::Utc::now().naive_utc();
        let secs = (now - t).num_seconds();
        let human = match secs {
            i64::MIN..=59 => "just now".to_string(),
            60..=3599 => plural(secs / 60, "minute"),
            3600..=86_399 => plural(secs / 3600, "hour"),
            86_400..=604_799 => plural(secs / 86_400, "day"),
            _ => t.format("%b %-d, %Y").to_string(),
        };
        Time { iso: t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), human }
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

/// Locks a post's row until the transaction ends, so that concurrent votes, edits and accepts
/// on it run one after another (PostgreSQL `FOR UPDATE`; SQLite write transactions are already
/// serialised by `db::write_transaction`).
pub fn lock_post(conn: &mut crate::db::DbConnection, id: i64) -> diesel::QueryResult<()> {
    match conn {
        crate::db::DbConnection::Postgresql(c) => {
            posts_t::table.find(id).select(posts_t::id).for_update().first::<i64>(c).optional()?;
        }
        crate::db::DbConnection::Sqlite(_) => {}
    }
    Ok(())
}

pub fn question_path(id: i64, slug: &str) -> String {
    format!("/questions/{id}/{slug}")
}
