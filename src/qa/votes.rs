//! Votes: one per user per post, up or down, changeable and retractable; never on your own post.

use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::{now, User};
use crate::db::schema::{posts, votes};
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::reputation::privileges::Privilege;
use crate::reputation::{self, Policy, Reason};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VoteOutcome {
    pub post_id: i64,
    /// The post's score after the vote.
    pub score: i64,
    /// The caller's vote now: 1, -1 or 0 (none).
    pub value: i32,
}

/// Sets the user's vote on a post to `value` (1, -1, or 0 to retract), keeps the score in step
/// and moves reputation: what the old vote gave is taken back, the new one gives its own.
pub fn cast(conn: &mut DbConnection, policy: &Policy, user: &User, post_id: i64, value: i32) -> Result<VoteOutcome> {
    if !(-1..=1).contains(&value) {
        return Err(Error::field("value", "A vote is 1 (up), -1 (down) or 0 (retract)."));
    }
    crate::moderation::ensure_can_write(user)?;
    match value {
        1 => policy.privileges.require(user, Privilege::VoteUp)?,
        -1 => policy.privileges.require(user, Privilege::VoteDown)?,
        _ => {}
    }
    crate::db::write_transaction(conn, |conn| {
        super::lock_post(conn, post_id)?;
        let post = super::posts::find(conn, post_id)?;
        crate::moderation::ensure_unlocked(&super::posts::find_question(conn, post.thread_id())?)?;
        if post.author_id == user.id {
            return Err(Error::forbidden("own_post", "You cannot vote on your own post."));
        }
        let old: i32 = votes::table.find((user.id, post.id)).select(votes::value).first(conn).optional()?.unwrap_or(0);
        if old != value {
            vote_reputation(conn, &policy.rules, &post, user.id, old, value)?;
            diesel::delete(votes::table.find((user.id, post.id))).execute(conn)?;
            if value != 0 {
                diesel::insert_into(votes::table)
                    .values((
                        votes::user_id.eq(user.id),
                        votes::post_id.eq(post.id),
                        votes::value.eq(value),
                        votes::created_at.eq(now()),
                    ))
                    .execute(conn)?;
            }
            let delta = i64::from(value - old);
            diesel::update(posts::table.find(post.id))
                .set((posts::score.eq(posts::score + delta), posts::version.eq(posts::version + 1)))
                .execute(conn)?;
            if post.thread_id() != post.id {
                diesel::update(posts::table.find(post.thread_id()))
                    .set(posts::version.eq(posts::version + 1))
                    .execute(conn)?;
            }
        }
        let score: i64 = posts::table.find(post.id).select(posts::score).first(conn)?;
        Ok(VoteOutcome { post_id: post.id, score, value })
    })
}

/// Takes back what the old vote gave and records what the new one gives.
fn vote_reputation(
    conn: &mut DbConnection,
    rules: &reputation::Rules,
    post: &super::Post,
    voter: i64,
    old: i32,
    new: i32,
) -> Result<()> {
    let upvoted = if post.is_question() { Reason::QuestionUpvoted } else { Reason::AnswerUpvoted };
    match old {
        1 => {
            reputation::reverse(conn, rules, upvoted, post.id, voter)?;
        }
        -1 => {
            reputation::reverse(conn, rules, Reason::PostDownvoted, post.id, voter)?;
            reputation::reverse(conn, rules, Reason::DownvotedAnswer, post.id, voter)?;
        }
        _ => {}
    }
    match new {
        1 => {
            reputation::award(conn, rules, post.author_id, upvoted, Some(post.id), Some(voter))?;
        }
        -1 => {
            reputation::award(conn, rules, post.author_id, Reason::PostDownvoted, Some(post.id), Some(voter))?;
            if !post.is_question() {
                reputation::award(conn, rules, voter, Reason::DownvotedAnswer, Some(post.id), Some(voter))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The user's votes on these posts.
pub fn of_user(conn: &mut DbConnection, user_id: i64, post_ids: &[i64]) -> Result<std::collections::HashMap<i64, i32>> {
    let mut out = std::collections::HashMap::new();
    for chunk in post_ids.chunks(500) {
        let rows: Vec<(i64, i32)> = votes::table
            .filter(votes::user_id.eq(user_id))
            .filter(votes::post_id.eq_any(chunk))
            .select((votes::post_id, votes::value))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}
