//! The review queue: suggested edits (from people below the free-edit threshold), first posts of
//! new people, flags and close/reopen votes. Every item is decided exactly once: the decision is
//! a conditional update (`… WHERE status = 'pending'`), so of two reviewers acting at the same
//! moment one wins and the other is told it was already handled.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::{now, User};
use crate::db::schema::{close_votes, first_post_reviews, posts, review_votes, suggested_edits, users};
use crate::db::DbConnection;
use crate::domain::{PostBody, QuestionTitle, TagName};
use crate::error::{Error, Result};
use crate::qa::posts::{self as qa_posts, PostEdit};
use crate::reputation::privileges::{Privilege, Privileges};
use crate::reputation::{self, Policy, Reason};

/// Approvals or rejections from reviewers that decide a suggested edit (one from a superuser,
/// staff or the post's author decides alone).
pub const REVIEWS_TO_DECIDE: i64 = 2;

/// What an edit by someone other than the author became.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EditOutcome {
    /// Applied at once as a new revision.
    Applied { post_id: i64 },
    /// Waiting for reviewers.
    Suggested { suggested_edit_id: i64 },
}

/// Edits a post if the editor may edit it freely (its author, or with the privilege);
/// otherwise records the edit as a suggestion for reviewers.
pub fn edit_or_suggest(
    conn: &mut DbConnection,
    policy: &Policy,
    editor: &User,
    post_id: i64,
    e: &PostEdit,
) -> Result<EditOutcome> {
    let post = qa_posts::find(conn, post_id)?;
    if post.author_id == editor.id || policy.privileges.has(editor, Privilege::EditFreely) {
        qa_posts::edit(conn, policy, editor, post_id, e)?;
        return Ok(EditOutcome::Applied { post_id });
    }
    crate::moderation::ensure_can_write(editor)?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, post_id)?;
        let post = qa_posts::find(conn, post_id)?;
        crate::moderation::ensure_unlocked(&qa_posts::find_question(conn, post.thread_id())?)?;
        let pending: i64 = suggested_edits::table
            .filter(suggested_edits::post_id.eq(post_id))
            .filter(suggested_edits::status.eq("pending"))
            .count()
            .get_result(conn)?;
        if pending > 0 {
            return Err(Error::conflict(
                "edit_pending",
                "This post already has a suggested edit waiting for review; try again once it is decided.",
            ));
        }
        // New tags need the privilege to create them, from whoever suggests them.
        if let Some(tags) = &e.tags {
            crate::qa::tags::ensure_may_use(conn, &policy.privileges, editor, tags)?;
        }
        let id: i64 = diesel::insert_into(suggested_edits::table)
            .values((
                suggested_edits::post_id.eq(post_id),
                suggested_edits::author_id.eq(editor.id),
                suggested_edits::title.eq(e.title.as_ref().filter(|_| post.is_question()).map(|t| t.as_str())),
                suggested_edits::body_md.eq(e.body.as_str()),
                suggested_edits::tags.eq(e
                    .tags
                    .as_ref()
                    .filter(|_| post.is_question())
                    .map(|t| t.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "))),
                suggested_edits::summary.eq(e.summary.trim()),
                suggested_edits::created_at.eq(now()),
            ))
            .returning(suggested_edits::id)
            .get_result(conn)?;
        Ok(EditOutcome::Suggested { suggested_edit_id: id })
    })
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = suggested_edits)]
struct SuggestionRow {
    id: i64,
    post_id: i64,
    author_id: i64,
    title: Option<String>,
    body_md: String,
    tags: Option<String>,
    summary: String,
    status: String,
    created_at: NaiveDateTime,
}

/// A suggested edit as reviewers see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestionView {
    pub id: i64,
    pub post_id: i64,
    pub suggested_by: String,
    pub title: Option<String>,
    pub body_markdown: String,
    pub current_markdown: String,
    pub tags: Option<String>,
    pub summary: String,
    pub status: String,
    pub approvals: i64,
    pub rejections: i64,
    pub created: crate::qa::Time,
}

/// What a review did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewOutcome {
    /// pending, approved or rejected.
    pub status: String,
    pub approvals: i64,
    pub rejections: i64,
}

fn tally(conn: &mut DbConnection, id: i64) -> Result<(i64, i64)> {
    let votes: Vec<bool> =
        review_votes::table.filter(review_votes::suggested_edit_id.eq(id)).select(review_votes::approve).load(conn)?;
    let approvals = votes.iter().filter(|v| **v).count() as i64;
    Ok((approvals, votes.len() as i64 - approvals))
}

/// Approves or rejects a suggested edit. Reviewers need the review-queue privilege; the post's
/// author may always review edits to their post. Approval applies the edit as a new revision
/// by its suggester, who gets reputation for it.
pub fn review_edit(
    conn: &mut DbConnection,
    policy: &Policy,
    reviewer: &User,
    id: i64,
    approve: bool,
) -> Result<ReviewOutcome> {
    crate::moderation::ensure_can_write(reviewer)?;
    crate::db::write_transaction(conn, |conn| {
        let s: SuggestionRow = suggested_edits::table
            .find(id)
            .select(SuggestionRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound("suggested edit"))?;
        let post = qa_posts::find(conn, s.post_id)?;
        let is_author = post.author_id == reviewer.id;
        if !is_author {
            policy.privileges.require(reviewer, Privilege::ReviewQueue)?;
        }
        if s.author_id == reviewer.id {
            return Err(Error::forbidden("own_suggestion", "You cannot review your own suggested edit."));
        }
        if s.status != "pending" {
            return Err(already_handled(&s.status));
        }
        let mine: i64 = review_votes::table.find((id, reviewer.id)).count().get_result(conn)?;
        if mine > 0 {
            return Err(Error::conflict("already_reviewed", "You have already reviewed this suggested edit."));
        }
        diesel::insert_into(review_votes::table)
            .values((
                review_votes::suggested_edit_id.eq(id),
                review_votes::user_id.eq(reviewer.id),
                review_votes::approve.eq(approve),
                review_votes::created_at.eq(now()),
            ))
            .execute(conn)?;
        let (approvals, rejections) = tally(conn, id)?;
        let decisive = is_author || policy.privileges.has(reviewer, Privilege::Superuser);
        let decision = if decisive {
            Some(approve)
        } else if approvals >= REVIEWS_TO_DECIDE {
            Some(true)
        } else if rejections >= REVIEWS_TO_DECIDE {
            Some(false)
        } else {
            None
        };
        let Some(approved) = decision else {
            return Ok(ReviewOutcome { status: "pending".into(), approvals, rejections });
        };
        let status = if approved { "approved" } else { "rejected" };
        let won = diesel::update(
            suggested_edits::table.filter(suggested_edits::id.eq(id)).filter(suggested_edits::status.eq("pending")),
        )
        .set((suggested_edits::status.eq(status), suggested_edits::decided_at.eq(Some(now()))))
        .execute(conn)?;
        if won == 0 {
            let now_status: String = suggested_edits::table.find(id).select(suggested_edits::status).first(conn)?;
            return Err(already_handled(&now_status));
        }
        if approved {
            let suggester = crate::accounts::users::find(conn, s.author_id)?;
            let e = PostEdit {
                title: s.title.as_deref().and_then(|t| QuestionTitle::parse(t).ok()),
                body: PostBody::parse(&s.body_md).map_err(|m| Error::field("body", m))?,
                tags: s.tags.as_deref().map(TagName::parse_list).transpose().map_err(|m| Error::field("tags", m))?,
                summary: if s.summary.is_empty() { "suggested edit".into() } else { s.summary.clone() },
            };
            crate::qa::lock_post(conn, post.id)?;
            crate::moderation::ensure_unlocked(&qa_posts::find_question(conn, post.thread_id())?)?;
            // Tags were checked against the suggester's privilege when suggested.
            qa_posts::apply_edit(conn, &Privileges::all_at(0), &suggester, &post, &e)?;
            reputation::award(
                conn,
                &policy.rules,
                suggester.id,
                Reason::EditApproved,
                Some(post.id),
                Some(reviewer.id),
            )?;
        }
        Ok(ReviewOutcome { status: status.into(), approvals, rejections })
    })
}

fn already_handled(status: &str) -> Error {
    Error::conflict("already_handled", format!("This suggested edit was already handled: {status}."))
}

/// Pending suggested edits, oldest first.
pub fn pending_edits(conn: &mut DbConnection, limit: i64) -> Result<Vec<SuggestionView>> {
    let rows: Vec<SuggestionRow> = suggested_edits::table
        .filter(suggested_edits::status.eq("pending"))
        .order(suggested_edits::id.asc())
        .limit(limit)
        .select(SuggestionRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        let (approvals, rejections) = tally(conn, s.id)?;
        let current = qa_posts::find(conn, s.post_id)?.body_md;
        let by: String = users::table.find(s.author_id).select(users::username).first(conn)?;
        out.push(SuggestionView {
            id: s.id,
            post_id: s.post_id,
            suggested_by: by,
            title: s.title,
            body_markdown: s.body_md,
            current_markdown: current,
            tags: s.tags,
            summary: s.summary,
            status: s.status,
            approvals,
            rejections,
            created: s.created_at.into(),
        });
    }
    Ok(out)
}

/// A new person's first post, waiting for a reviewer's look.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FirstPost {
    pub post_id: i64,
    pub question_id: i64,
    pub author: String,
    pub excerpt: String,
    pub created: crate::qa::Time,
}

/// First posts (the author's earliest post) not yet reviewed, oldest first.
pub fn first_posts(conn: &mut DbConnection, limit: i64) -> Result<Vec<FirstPost>> {
    let reviewed = first_post_reviews::table.select(first_post_reviews::post_id);
    let rows: Vec<(i64, Option<i64>, i64, String, NaiveDateTime)> = posts::table
        .filter(posts::id.ne_all(reviewed))
        .filter(posts::hidden_at.is_null())
        .select((posts::id, posts::question_id, posts::author_id, posts::body_md, posts::created_at))
        .order(posts::id.desc())
        .limit(500)
        .load(conn)?;
    // Each author's earliest post, and names, in two queries for the whole list.
    let authors: Vec<i64> = rows.iter().map(|r| r.2).collect();
    let mut earliest: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    let theirs: Vec<(i64, i64)> =
        posts::table.filter(posts::author_id.eq_any(&authors)).select((posts::author_id, posts::id)).load(conn)?;
    for (author, id) in theirs {
        let e = earliest.entry(author).or_insert(id);
        *e = (*e).min(id);
    }
    let names: std::collections::HashMap<i64, String> =
        crate::accounts::users::find_many(conn, &authors)?.into_iter().map(|u| (u.id, u.username)).collect();
    let out = rows
        .into_iter()
        .rev()
        .filter(|(id, _, author, _, _)| earliest.get(author) == Some(id))
        .take(limit.max(0) as usize)
        .map(|(id, qid, author, md, at)| FirstPost {
            post_id: id,
            question_id: qid.unwrap_or(id),
            author: names.get(&author).cloned().unwrap_or_default(),
            excerpt: crate::markdown::plain_excerpt(&md, 300),
            created: at.into(),
        })
        .collect();
    Ok(out)
}

/// Marks a first post as looked at (exactly once; a second reviewer is told it was handled).
pub fn review_first_post(conn: &mut DbConnection, policy: &Policy, reviewer: &User, post_id: i64) -> Result<()> {
    crate::moderation::ensure_can_write(reviewer)?;
    policy.privileges.require(reviewer, Privilege::ReviewQueue)?;
    crate::db::write_transaction(conn, |conn| {
        qa_posts::find(conn, post_id)?;
        let done: i64 = first_post_reviews::table.find(post_id).count().get_result(conn)?;
        if done > 0 {
            return Err(Error::conflict("already_handled", "This first post was already reviewed."));
        }
        diesel::insert_into(first_post_reviews::table)
            .values((
                first_post_reviews::post_id.eq(post_id),
                first_post_reviews::reviewer_id.eq(reviewer.id),
                first_post_reviews::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// A question with close or reopen votes waiting for more.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingVotes {
    pub question_id: i64,
    pub title: String,
    pub path: String,
    /// close or reopen.
    pub kind: String,
    pub votes: i64,
}

pub fn pending_close_votes(conn: &mut DbConnection, limit: i64) -> Result<Vec<PendingVotes>> {
    let rows: Vec<(i64, String)> = close_votes::table
        .select((close_votes::question_id, close_votes::kind))
        .order(close_votes::question_id)
        .load(conn)?;
    let mut grouped: Vec<(i64, String, i64)> = Vec::new();
    for (q, k) in rows {
        match grouped.iter_mut().find(|(gq, gk, _)| *gq == q && *gk == k) {
            Some(g) => g.2 += 1,
            None => grouped.push((q, k, 1)),
        }
    }
    let mut out = Vec::new();
    for (q, kind, votes) in grouped.into_iter().take(limit as usize) {
        let p = qa_posts::find(conn, q)?;
        out.push(PendingVotes {
            question_id: q,
            title: p.title.unwrap_or_default(),
            path: crate::qa::question_path(q, &p.slug),
            kind,
            votes,
        });
    }
    Ok(out)
}

/// Everything waiting for review, as one object (the page and the API).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queue {
    pub suggested_edits: Vec<SuggestionView>,
    pub first_posts: Vec<FirstPost>,
    pub close_votes: Vec<PendingVotes>,
    /// Only for superusers and staff.
    pub flags: Vec<crate::moderation::FlagRow>,
}

/// The queue for a reviewer (review-queue privilege; flags only with moderator tools).
pub fn queue(conn: &mut DbConnection, policy: &Policy, reviewer: &User) -> Result<Queue> {
    policy.privileges.require(reviewer, Privilege::ReviewQueue)?;
    let flags = if policy.privileges.has(reviewer, Privilege::Superuser) {
        crate::moderation::pending_flags(conn, policy, reviewer, 100)?
    } else {
        Vec::new()
    };
    Ok(Queue {
        suggested_edits: pending_edits(conn, 100)?,
        first_posts: first_posts(conn, 50)?,
        close_votes: pending_close_votes(conn, 100)?,
        flags,
    })
}
