//! Lists of questions: home tabs, tag pages, profiles, the sitemap and feeds.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{question_path, tags, Post, Time, UserRef, QUESTION};
use crate::accounts::User;
use crate::db::schema::{post_tags, posts, tags as tags_t, users};
use crate::db::DbConnection;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Newest,
    Active,
    Unanswered,
    Votes,
    /// Questions with an open bounty, newest bounty first.
    Bountied,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "newest" => Some(Sort::Newest),
            "active" => Some(Sort::Active),
            "unanswered" => Some(Sort::Unanswered),
            "votes" => Some(Sort::Votes),
            "bountied" => Some(Sort::Bountied),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Active => "active",
            Sort::Unanswered => "unanswered",
            Sort::Votes => "votes",
            Sort::Bountied => "bountied",
        }
    }
}

/// A question in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionSummary {
    pub id: i64,
    pub title: String,
    pub path: String,
    pub score: i64,
    pub answer_count: i64,
    pub view_count: i64,
    pub has_accepted_answer: bool,
    pub tags: Vec<String>,
    pub author: UserRef,
    pub created: Time,
    pub last_activity: Time,
    pub source: String,
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Questions for a tab, optionally within one tag.
pub fn questions(
    conn: &mut DbConnection,
    sort: Sort,
    tag: Option<i64>,
    page: i64,
    per_page: i64,
) -> Result<Page<QuestionSummary>> {
    let filtered = || {
        let mut q = posts::table.filter(posts::kind.eq(QUESTION)).filter(posts::hidden_at.is_null()).into_boxed();
        if let Some(tag_id) = tag {
            q = q.filter(
                posts::id.eq_any(post_tags::table.filter(post_tags::tag_id.eq(tag_id)).select(post_tags::post_id)),
            );
        }
        if sort == Sort::Bountied {
            use crate::db::schema::bounties;
            q = q.filter(
                posts::id.eq_any(bounties::table.filter(bounties::status.eq("open")).select(bounties::question_id)),
            );
        }
        if sort == Sort::Unanswered {
            q = q.filter(posts::answer_count.eq(0));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let q = filtered();
    let q = match sort {
        Sort::Newest | Sort::Unanswered | Sort::Bountied => q.order((posts::created_at.desc(), posts::id.desc())),
        // Pinned threads head the active list.
        Sort::Active => q.order((posts::pinned_at.is_null(), posts::last_activity_at.desc(), posts::id.desc())),
        Sort::Votes => q.order((posts::score.desc(), posts::id.desc())),
    };
    let rows: Vec<Post> =
        q.limit(per_page).offset((page.max(1) - 1) * per_page).select(Post::as_select()).load(conn)?;
    Ok(Page { items: summarize(conn, rows)?, total })
}

/// Questions asked by one user, newest first.
pub fn by_author(conn: &mut DbConnection, user_id: i64, limit: i64) -> Result<Vec<QuestionSummary>> {
    let rows: Vec<Post> = posts::table
        .filter(posts::kind.eq(QUESTION))
        .filter(posts::hidden_at.is_null())
        .filter(posts::author_id.eq(user_id))
        .order(posts::created_at.desc())
        .limit(limit)
        .select(Post::as_select())
        .load(conn)?;
    summarize(conn, rows)
}

/// Questions a user answered, newest answer first.
pub fn answered_by(conn: &mut DbConnection, user_id: i64, limit: i64) -> Result<Vec<QuestionSummary>> {
    let ids: Vec<Option<i64>> = posts::table
        .filter(posts::kind.eq(super::ANSWER))
        .filter(posts::hidden_at.is_null())
        .filter(posts::author_id.eq(user_id))
        .order(posts::created_at.desc())
        .limit(limit)
        .select(posts::question_id)
        .load(conn)?;
    let ids: Vec<i64> = ids.into_iter().flatten().collect();
    let mut rows: Vec<Post> = posts::table.filter(posts::id.eq_any(&ids)).select(Post::as_select()).load(conn)?;
    rows.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
    summarize(conn, rows)
}

pub fn count_by_author(conn: &mut DbConnection, user_id: i64, kind: &str) -> Result<i64> {
    Ok(posts::table.filter(posts::author_id.eq(user_id)).filter(posts::kind.eq(kind)).count().get_result(conn)?)
}

fn summarize(conn: &mut DbConnection, rows: Vec<Post>) -> Result<Vec<QuestionSummary>> {
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut author_ids: Vec<i64> = rows.iter().map(|p| p.author_id).collect();
    author_ids.sort_unstable();
    author_ids.dedup();
    let authors: std::collections::HashMap<i64, User> =
        crate::accounts::users::find_many(conn, &author_ids)?.into_iter().map(|u| (u.id, u)).collect();
    let mut tag_map = tags::names_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|p| {
            let author = authors.get(&p.author_id)?;
            Some(QuestionSummary {
                id: p.id,
                path: question_path(p.id, &p.slug),
                title: p.title.unwrap_or_default(),
                score: p.score,
                answer_count: p.answer_count,
                view_count: p.view_count,
                has_accepted_answer: p.accepted_answer_id.is_some(),
                tags: tag_map.remove(&p.id).unwrap_or_default(),
                author: author.into(),
                created: p.created_at.into(),
                last_activity: p.last_activity_at.into(),
                source: p.source,
            })
        })
        .collect())
}

/// One sitemap entry.
pub struct SitemapEntry {
    pub path: String,
    pub last_modified: chrono::NaiveDateTime,
}

/// The most recently active questions for the sitemap (a sitemap holds at most 50,000 URLs).
pub fn sitemap(conn: &mut DbConnection) -> Result<Vec<SitemapEntry>> {
    let rows: Vec<(i64, String, chrono::NaiveDateTime)> = posts::table
        .filter(posts::kind.eq(QUESTION))
        .filter(posts::hidden_at.is_null())
        .order(posts::last_activity_at.desc())
        .limit(50_000)
        .select((posts::id, posts::slug, posts::last_activity_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, at)| SitemapEntry { path: question_path(id, &slug), last_modified: at })
        .collect())
}

/// Newest questions with their Markdown, for the Atom feeds.
pub fn newest_for_feed(conn: &mut DbConnection, tag: Option<i64>, limit: i64) -> Result<Vec<(Post, User)>> {
    let mut q = posts::table
        .inner_join(users::table)
        .filter(posts::kind.eq(QUESTION))
        .filter(posts::hidden_at.is_null())
        .into_boxed();
    if let Some(tag_id) = tag {
        q = q
            .filter(posts::id.eq_any(post_tags::table.filter(post_tags::tag_id.eq(tag_id)).select(post_tags::post_id)));
    }
    Ok(q.order(posts::created_at.desc()).limit(limit).select((Post::as_select(), User::as_select())).load(conn)?)
}

/// Unused-tag-safe lookup of a tag id by name.
pub fn tag_id(conn: &mut DbConnection, name: &str) -> Result<Option<i64>> {
    Ok(tags_t::table.filter(tags_t::name.eq(name)).select(tags_t::id).first(conn).optional()?)
}
