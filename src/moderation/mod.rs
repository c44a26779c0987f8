//! Moderation: flags and their outcomes, hiding (never silent deletion), locking, pinning,
//! closing and reopening (by votes or at once by a superuser), suspending people, and the public
//! log of every moderator action.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accounts::{now, User};
use crate::db::schema::{close_votes, flags, moderation_log, posts, users};
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::qa::posts::{find, find_question};
use crate::qa::Post;
use crate::reputation::privileges::Privilege;
use crate::reputation::Policy;

/// Flags from this many different people for spam or abuse hide a post at once.
pub const AUTO_HIDE_FLAGS: i64 = 3;
/// Close or reopen votes needed from people with the privilege (one from a superuser decides).
pub const CLOSE_VOTES: i64 = 3;

/// `Ok` unless the person is suspended; then a 403 with the end date and the reason.
pub fn ensure_can_write(user: &User) -> Result<()> {
    match user.suspended_until {
        Some(until) if until > now() => Err(Error::forbidden(
            "suspended",
            format!(
                "Your account is suspended until {} UTC: {}. You can read, but not write, until then.",
                until.format("%Y-%m-%d %H:%M"),
                user.suspension_reason.as_deref().unwrap_or("no reason given")
            ),
        )),
        _ => Ok(()),
    }
}

/// `Ok` unless the thread is locked.
pub fn ensure_unlocked(thread: &Post) -> Result<()> {
    match (&thread.locked_at, &thread.locked_reason) {
        (Some(_), reason) => Err(Error::forbidden(
            "thread_locked",
            format!(
                "This thread is locked ({}): no answers, comments, votes or edits.",
                reason.as_deref().unwrap_or("no reason given")
            ),
        )),
        _ => Ok(()),
    }
}

fn reason_text(reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(Error::field(
            "reason",
            "Give a reason: it is shown to the author and in the public moderation log.",
        ));
    }
    if r.chars().count() > 500 {
        return Err(Error::field("reason", "A reason is at most 500 characters."));
    }
    Ok(r.to_string())
}

/// Writes one entry of the public moderation log (`actor` None: the community, e.g. flags).
pub fn log(
    conn: &mut DbConnection,
    actor: Option<i64>,
    action: &str,
    target_kind: &str,
    target_id: i64,
    reason: &str,
) -> Result<()> {
    diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::actor_id.eq(actor),
            moderation_log::action.eq(action),
            moderation_log::target_kind.eq(target_kind),
            moderation_log::target_id.eq(target_id),
            moderation_log::reason.eq(reason),
            moderation_log::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks a change in a thread so caches drop it.
fn touch(conn: &mut DbConnection, post: &Post) -> Result<()> {
    diesel::update(posts::table.filter(posts::id.eq_any([post.id, post.thread_id()])))
        .set(posts::version.eq(posts::version + 1))
        .execute(conn)?;
    Ok(())
}

// ---- Flags ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagReason {
    Spam,
    Rude,
    NotAnAnswer,
    /// With the question it duplicates.
    Duplicate,
    NeedsStaff,
    /// With text.
    Other,
}

impl FlagReason {
    pub const ALL: [FlagReason; 6] = [
        FlagReason::Spam,
        FlagReason::Rude,
        FlagReason::NotAnAnswer,
        FlagReason::Duplicate,
        FlagReason::NeedsStaff,
        FlagReason::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FlagReason::Spam => "spam",
            FlagReason::Rude => "rude",
            FlagReason::NotAnAnswer => "not_an_answer",
            FlagReason::Duplicate => "duplicate",
            FlagReason::NeedsStaff => "needs_staff",
            FlagReason::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<FlagReason> {
        FlagReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            FlagReason::Spam => "Spam",
            FlagReason::Rude => "Rude or abusive",
            FlagReason::NotAnAnswer => "Not an answer",
            FlagReason::Duplicate => "Duplicate of another question",
            FlagReason::NeedsStaff => "Needs staff attention",
            FlagReason::Other => "Something else",
        }
    }
}

/// What a person asked for when flagging.
#[derive(Debug, Clone)]
pub struct NewFlag {
    pub reason: String,
    pub details: String,
    pub duplicate_of: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagOutcome {
    pub flag_id: i64,
    /// True when this flag was the one that hid the post (pending review).
    pub post_hidden: bool,
}

/// A duplicate target must be another visible question.
fn check_duplicate_target(conn: &mut DbConnection, question_id: i64, target: Option<i64>) -> Result<i64> {
    let Some(t) = target else {
        return Err(Error::field("duplicate_of", "Name the question this one duplicates."));
    };
    if t == question_id {
        return Err(Error::field("duplicate_of", "A question cannot be a duplicate of itself."));
    }
    let target = match find_question(conn, t) {
        Ok(q) => q,
        Err(Error::NotFound(_)) => return Err(Error::field("duplicate_of", format!("There is no question {t}."))),
        Err(e) => return Err(e),
    };
    if target.hidden_at.is_some() {
        return Err(Error::field("duplicate_of", "That question is hidden by moderators; choose a visible one."));
    }
    Ok(t)
}

/// Flags a post for moderators. One flag per person per post; three spam or abuse flags from
/// different people hide the post at once, pending review.
pub fn flag(conn: &mut DbConnection, policy: &Policy, user: &User, post_id: i64, f: &NewFlag) -> Result<FlagOutcome> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::Flag)?;
    let reason = FlagReason::parse(&f.reason).ok_or_else(|| {
        let all: Vec<_> = FlagReason::ALL.iter().map(|r| r.as_str()).collect();
        Error::field("reason", format!("Choose a reason: {}.", all.join(", ")))
    })?;
    let details = f.details.trim().to_string();
    if reason == FlagReason::Other && details.is_empty() {
        return Err(Error::field("details", "Say what is wrong: \"other\" needs a few words."));
    }
    if details.chars().count() > 500 {
        return Err(Error::field("details", "At most 500 characters."));
    }
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, post_id)?;
        let post = find(conn, post_id)?;
        let duplicate_of = match reason {
            FlagReason::Duplicate => Some(check_duplicate_target(conn, post.thread_id(), f.duplicate_of)?),
            _ => None,
        };
        let already: i64 = flags::table
            .filter(flags::post_id.eq(post_id))
            .filter(flags::user_id.eq(user.id))
            .count()
            .get_result(conn)?;
        if already > 0 {
            return Err(Error::conflict("already_flagged", "You have already flagged this post."));
        }
        let flag_id: i64 = diesel::insert_into(flags::table)
            .values((
                flags::post_id.eq(post_id),
                flags::user_id.eq(user.id),
                flags::reason.eq(reason.as_str()),
                flags::details.eq(&details),
                flags::duplicate_of.eq(duplicate_of),
                flags::created_at.eq(now()),
            ))
            .returning(flags::id)
            .get_result(conn)?;
        let mut post_hidden = false;
        if matches!(reason, FlagReason::Spam | FlagReason::Rude) && post.hidden_at.is_none() {
            let serious: i64 = flags::table
                .filter(flags::post_id.eq(post_id))
                .filter(flags::status.eq("pending"))
                .filter(flags::reason.eq_any(["spam", "rude"]))
                .count()
                .get_result(conn)?;
            if serious >= AUTO_HIDE_FLAGS {
                let why = "flagged as spam or abuse by the community, pending review";
                set_hidden(conn, &post, Some(why))?;
                log(conn, None, "hide", "post", post_id, why)?;
                post_hidden = true;
            }
        }
        Ok(FlagOutcome { flag_id, post_hidden })
    })
}

/// A flag waiting for (or after) a decision, as moderators see it.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = flags)]
pub struct FlagRow {
    pub id: i64,
    pub post_id: i64,
    pub user_id: i64,
    pub reason: String,
    pub details: String,
    pub duplicate_of: Option<i64>,
    pub status: String,
    pub handled_by: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub handled_at: Option<NaiveDateTime>,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

/// Pending flags, oldest first (superusers and staff).
pub fn pending_flags(conn: &mut DbConnection, policy: &Policy, user: &User, limit: i64) -> Result<Vec<FlagRow>> {
    policy.privileges.require(user, Privilege::Superuser)?;
    Ok(flags::table
        .filter(flags::status.eq("pending"))
        .order(flags::id.asc())
        .limit(limit)
        .select(FlagRow::as_select())
        .load(conn)?)
}

/// Decides a flag (helpful or declined), exactly once: when two moderators decide at the same
/// moment one wins and the other is told who already handled it.
pub fn decide_flag(
    conn: &mut DbConnection,
    policy: &Policy,
    user: &User,
    flag_id: i64,
    helpful: bool,
) -> Result<FlagRow> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::Superuser)?;
    let status = if helpful { "helpful" } else { "declined" };
    crate::db::write_transaction(conn, |conn| {
        let won = diesel::update(flags::table.filter(flags::id.eq(flag_id)).filter(flags::status.eq("pending")))
            .set((flags::status.eq(status), flags::handled_by.eq(Some(user.id)), flags::handled_at.eq(Some(now()))))
            .execute(conn)?;
        let row: FlagRow = flags::table
            .find(flag_id)
            .select(FlagRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound("flag"))?;
        if won == 0 {
            let by = match row.handled_by {
                Some(id) => {
                    crate::accounts::users::find(conn, id).map(|u| u.username).unwrap_or_else(|_| "someone".into())
                }
                None => "someone".into(),
            };
            return Err(Error::conflict(
                "already_handled",
                format!("This flag was already handled by {by}: marked {}.", row.status),
            ));
        }
        log(
            conn,
            Some(user.id),
            &format!("flag_{status}"),
            "post",
            row.post_id,
            &format!("flag {flag_id}: {}", row.reason),
        )?;
        Ok(row)
    })
}

// ---- Hide, lock, pin ----

fn set_hidden(conn: &mut DbConnection, post: &Post, reason: Option<&str>) -> Result<()> {
    let at = reason.map(|_| now());
    diesel::update(posts::table.find(post.id))
        .set((posts::hidden_at.eq(at), posts::hidden_reason.eq(reason)))
        .execute(conn)?;
    touch(conn, post)
}

/// Hides a post with a reason (superusers and staff). The author and moderators still see it.
pub fn hide(conn: &mut DbConnection, policy: &Policy, user: &User, post_id: i64, reason: &str) -> Result<()> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::Superuser)?;
    let reason = reason_text(reason)?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, post_id)?;
        let post = find(conn, post_id)?;
        if post.hidden_at.is_some() {
            return Err(Error::conflict("already_hidden", "This post is already hidden."));
        }
        set_hidden(conn, &post, Some(&reason))?;
        log(conn, Some(user.id), "hide", "post", post_id, &reason)
    })
}

pub fn unhide(conn: &mut DbConnection, policy: &Policy, user: &User, post_id: i64, reason: &str) -> Result<()> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::Superuser)?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, post_id)?;
        let post = find(conn, post_id)?;
        if post.hidden_at.is_none() {
            return Err(Error::conflict("not_hidden", "This post is not hidden."));
        }
        set_hidden(conn, &post, None)?;
        log(conn, Some(user.id), "unhide", "post", post_id, reason.trim())
    })
}

/// Locks a thread with a reason, or unlocks it (superusers and staff).
pub fn set_lock(
    conn: &mut DbConnection,
    policy: &Policy,
    user: &User,
    question_id: i64,
    lock: Option<&str>,
) -> Result<()> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::Superuser)?;
    let reason = lock.map(reason_text).transpose()?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, question_id)?;
        let q = find_question(conn, question_id)?;
        match (&reason, q.locked_at) {
            (Some(_), Some(_)) => return Err(Error::conflict("already_locked", "This thread is already locked.")),
            (None, None) => return Err(Error::conflict("not_locked", "This thread is not locked.")),
            _ => {}
        }
        diesel::update(posts::table.find(q.id))
            .set((posts::locked_at.eq(reason.as_ref().map(|_| now())), posts::locked_reason.eq(reason.as_deref())))
            .execute(conn)?;
        touch(conn, &q)?;
        let action = if reason.is_some() { "lock" } else { "unlock" };
        log(conn, Some(user.id), action, "post", q.id, reason.as_deref().unwrap_or(""))
    })
}

/// Pins a thread to the top of the home page, or unpins it (superusers and staff).
pub fn set_pin(conn: &mut DbConnection, policy: &Policy, user: &User, question_id: i64, pin: bool) -> Result<()> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::Superuser)?;
    crate::db::write_transaction(conn, |conn| {
        let q = find_question(conn, question_id)?;
        if q.pinned_at.is_some() == pin {
            let (code, msg) = if pin {
                ("already_pinned", "This thread is already pinned.")
            } else {
                ("not_pinned", "This thread is not pinned.")
            };
            return Err(Error::conflict(code, msg));
        }
        diesel::update(posts::table.find(q.id)).set(posts::pinned_at.eq(pin.then(now))).execute(conn)?;
        touch(conn, &q)?;
        log(conn, Some(user.id), if pin { "pin" } else { "unpin" }, "post", q.id, "")
    })
}

// ---- Close and reopen ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Duplicate,
    OffTopic,
    NeedsDetails,
    OpinionBased,
    Other,
}

impl CloseReason {
    pub const ALL: [CloseReason; 5] = [
        CloseReason::Duplicate,
        CloseReason::OffTopic,
        CloseReason::NeedsDetails,
        CloseReason::OpinionBased,
        CloseReason::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Duplicate => "duplicate",
            CloseReason::OffTopic => "off_topic",
            CloseReason::NeedsDetails => "needs_details",
            CloseReason::OpinionBased => "opinion_based",
            CloseReason::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<CloseReason> {
        CloseReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            CloseReason::Duplicate => "a duplicate",
            CloseReason::OffTopic => "off-topic",
            CloseReason::NeedsDetails => "in need of details",
            CloseReason::OpinionBased => "opinion-based",
            CloseReason::Other => "closed for another reason",
        }
    }
}

/// What a close or reopen vote did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VoteOutcome {
    /// Votes so far (0 once the question closed or reopened).
    pub votes: i64,
    pub needed: i64,
    /// True when this vote closed (or reopened) the question.
    pub decided: bool,
}

/// Votes to close a question; the third vote, or one from a superuser or staff, closes it.
pub fn vote_close(
    conn: &mut DbConnection,
    policy: &Policy,
    user: &User,
    question_id: i64,
    reason: &str,
    duplicate_of: Option<i64>,
) -> Result<VoteOutcome> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::VoteToClose)?;
    let reason = CloseReason::parse(reason).ok_or_else(|| {
        let all: Vec<_> = CloseReason::ALL.iter().map(|r| r.as_str()).collect();
        Error::field("reason", format!("Choose a reason to close: {}.", all.join(", ")))
    })?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, question_id)?;
        let q = find_question(conn, question_id)?;
        if q.closed_at.is_some() {
            return Err(Error::conflict("already_closed", "This question is already closed."));
        }
        let dup = match reason {
            CloseReason::Duplicate => Some(check_duplicate_target(conn, q.id, duplicate_of)?),
            _ => None,
        };
        cast_close_vote(conn, policy, user, &q, "close", reason.as_str(), dup, |conn| {
            diesel::update(posts::table.find(q.id))
                .set((
                    posts::closed_at.eq(Some(now())),
                    posts::close_reason.eq(Some(reason.as_str())),
                    posts::duplicate_of.eq(dup),
                ))
                .execute(conn)?;
            let why = match dup {
                Some(d) => format!("duplicate of question {d}"),
                None => reason.label().to_string(),
            };
            log(conn, Some(user.id), "close", "post", q.id, &why)
        })
    })
}

/// Votes to reopen a closed question; the third vote, or one from a superuser or staff, reopens it.
pub fn vote_reopen(conn: &mut DbConnection, policy: &Policy, user: &User, question_id: i64) -> Result<VoteOutcome> {
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::VoteToClose)?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, question_id)?;
        let q = find_question(conn, question_id)?;
        if q.closed_at.is_none() {
            return Err(Error::conflict("not_closed", "This question is open; there is nothing to reopen."));
        }
        cast_close_vote(conn, policy, user, &q, "reopen", "", None, |conn| {
            diesel::update(posts::table.find(q.id))
                .set((
                    posts::closed_at.eq(None::<NaiveDateTime>),
                    posts::close_reason.eq(None::<String>),
                    posts::duplicate_of.eq(None::<i64>),
                ))
                .execute(conn)?;
            log(conn, Some(user.id), "reopen", "post", q.id, "")
        })
    })
}

#[allow(clippy::too_many_arguments)]
fn cast_close_vote(
    conn: &mut DbConnection,
    policy: &Policy,
    user: &User,
    q: &Post,
    kind: &str,
    reason: &str,
    dup: Option<i64>,
    decide: impl FnOnce(&mut DbConnection) -> Result<()>,
) -> Result<VoteOutcome> {
    let mine: i64 = close_votes::table.find((q.id, user.id, kind)).count().get_result(conn)?;
    if mine > 0 {
        return Err(Error::conflict("already_voted", format!("You have already voted to {kind} this question.")));
    }
    diesel::insert_into(close_votes::table)
        .values((
            close_votes::question_id.eq(q.id),
            close_votes::user_id.eq(user.id),
            close_votes::kind.eq(kind),
            close_votes::reason.eq(reason),
            close_votes::duplicate_of.eq(dup),
            close_votes::created_at.eq(now()),
        ))
        .execute(conn)?;
    let votes: i64 = close_votes::table
        .filter(close_votes::question_id.eq(q.id))
        .filter(close_votes::kind.eq(kind))
        .count()
        .get_result(conn)?;
    if votes >= CLOSE_VOTES || policy.privileges.has(user, Privilege::Superuser) {
        decide(conn)?;
        diesel::delete(close_votes::table.filter(close_votes::question_id.eq(q.id))).execute(conn)?;
        touch(conn, q)?;
        return Ok(VoteOutcome { votes: 0, needed: CLOSE_VOTES, decided: true });
    }
    Ok(VoteOutcome { votes, needed: CLOSE_VOTES, decided: false })
}

/// Questions closed as duplicates of this one (for the "linked questions" list).
pub fn linked_duplicates(conn: &mut DbConnection, question_id: i64) -> Result<Vec<(i64, String, String)>> {
    let rows: Vec<(i64, Option<String>, String)> = posts::table
        .filter(posts::duplicate_of.eq(question_id))
        .filter(posts::hidden_at.is_null())
        .select((posts::id, posts::title, posts::slug))
        .order(posts::id.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, t, s)| (id, t.unwrap_or_default(), crate::qa::question_path(id, &s))).collect())
}

// ---- Suspension ----

/// Suspends a person for `days` with a reason (superusers and staff; never staff themselves).
pub fn suspend(
    conn: &mut DbConnection,
    policy: &Policy,
    moderator: &User,
    user_id: i64,
    days: i64,
    reason: &str,
) -> Result<NaiveDateTime> {
    ensure_can_write(moderator)?;
    policy.privileges.require(moderator, Privilege::Superuser)?;
    if !(1..=3650).contains(&days) {
        return Err(Error::field("days", "A suspension lasts 1 to 3650 days."));
    }
    let reason = reason_text(reason)?;
    crate::db::write_transaction(conn, |conn| {
        let target = crate::accounts::users::find(conn, user_id)?;
        if target.is_staff() || target.id == moderator.id {
            return Err(Error::forbidden("cannot_suspend", "Staff, admins and you yourself cannot be suspended here."));
        }
        let until = now() + TimeDelta::days(days);
        diesel::update(users::table.find(user_id))
            .set((users::suspended_until.eq(Some(until)), users::suspension_reason.eq(Some(&reason))))
            .execute(conn)?;
        log(conn, Some(moderator.id), "suspend", "user", user_id, &format!("{days} days: {reason}"))?;
        Ok(until)
    })
}

pub fn lift_suspension(conn: &mut DbConnection, policy: &Policy, moderator: &User, user_id: i64) -> Result<()> {
    ensure_can_write(moderator)?;
    policy.privileges.require(moderator, Privilege::Superuser)?;
    crate::db::write_transaction(conn, |conn| {
        let target = crate::accounts::users::find(conn, user_id)?;
        if target.suspended_until.is_none_or(|u| u <= now()) {
            return Err(Error::conflict("not_suspended", "This person is not suspended."));
        }
        diesel::update(users::table.find(user_id))
            .set((users::suspended_until.eq(None::<NaiveDateTime>), users::suspension_reason.eq(None::<String>)))
            .execute(conn)?;
        log(conn, Some(moderator.id), "unsuspend", "user", user_id, "")
    })
}

// ---- The public log ----

/// One entry of the public moderation log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogEntry {
    pub id: i64,
    /// Who acted; "community" when flags did it.
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: i64,
    /// Where the target is, when it is a post or a person.
    pub target_path: String,
    pub reason: String,
    pub created: crate::qa::Time,
}

/// A page of the log, newest first, optionally one action only; and how many entries match.
pub fn log_page(
    conn: &mut DbConnection,
    action: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<(Vec<LogEntry>, i64)> {
    let mut q = moderation_log::table.into_boxed();
    let mut c = moderation_log::table.into_boxed();
    if let Some(a) = action {
        q = q.filter(moderation_log::action.eq(a.to_string()));
        c = c.filter(moderation_log::action.eq(a.to_string()));
    }
    let total: i64 = c.count().get_result(conn)?;
    type LogRow = (i64, Option<i64>, String, String, i64, String, NaiveDateTime);
    let rows: Vec<LogRow> = q
        .select((
            moderation_log::id,
            moderation_log::actor_id,
            moderation_log::action,
            moderation_log::target_kind,
            moderation_log::target_id,
            moderation_log::reason,
            moderation_log::created_at,
        ))
        .order(moderation_log::id.desc())
        .offset((page.max(1) - 1) * per_page)
        .limit(per_page)
        .load(conn)?;
    let actor_ids: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
    let names: std::collections::HashMap<i64, String> =
        crate::accounts::users::find_many(conn, &actor_ids)?.into_iter().map(|u| (u.id, u.username)).collect();
    Ok((
        rows.into_iter()
            .map(|(id, actor, action, target_kind, target_id, reason, at)| LogEntry {
                id,
                actor: actor.and_then(|a| names.get(&a).cloned()).unwrap_or_else(|| "community".into()),
                target_path: match target_kind.as_str() {
                    "user" => format!("/users/{target_id}"),
                    _ => format!("/posts/{target_id}/revisions"),
                },
                action,
                target_kind,
                target_id,
                reason,
                created: at.into(),
            })
            .collect(),
        total,
    ))
}

/// The reader of a thread: moderators (the superuser privilege) see hidden posts in full.
pub fn reader(
    conn: &mut DbConnection,
    policy: &Policy,
    user_id: Option<i64>,
) -> Result<Option<crate::qa::thread::Reader>> {
    let Some(id) = user_id else { return Ok(None) };
    let user = crate::accounts::users::find(conn, id)?;
    Ok(Some(crate::qa::thread::Reader {
        user_id: id,
        moderator: policy.privileges.has(&user, Privilege::Superuser),
        sees_vote_split: policy.privileges.has(&user, Privilege::SeeVoteSplits),
    }))
}

// ---- The two kinds of real deletion ----

/// Deletes a spam post for good (superusers and staff), with its answers when it is a question.
/// Everything else is hidden, never deleted; this is logged like every moderator action.
pub fn delete_spam(conn: &mut DbConnection, policy: &Policy, user: &User, post_id: i64) -> Result<Option<i64>> {
    use crate::db::schema::{post_tags, tags};
    ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::Superuser)?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, post_id)?;
        let post = find(conn, post_id)?;
        let thread = post.thread_id();
        if post.is_question() {
            // Tag counts, duplicates pointing here and the answers go first.
            let tag_ids: Vec<i64> =
                post_tags::table.filter(post_tags::post_id.eq(post.id)).select(post_tags::tag_id).load(conn)?;
            diesel::update(tags::table.filter(tags::id.eq_any(&tag_ids)))
                .set(tags::question_count.eq(tags::question_count - 1))
                .execute(conn)?;
            diesel::update(posts::table.filter(posts::duplicate_of.eq(post.id)))
                .set(posts::duplicate_of.eq(None::<i64>))
                .execute(conn)?;
            diesel::delete(posts::table.filter(posts::question_id.eq(post.id))).execute(conn)?;
        } else {
            diesel::update(posts::table.find(thread))
                .set((posts::answer_count.eq(posts::answer_count - 1), posts::version.eq(posts::version + 1)))
                .execute(conn)?;
            diesel::update(posts::table.filter(posts::accepted_answer_id.eq(post.id)))
                .set(posts::accepted_answer_id.eq(None::<i64>))
                .execute(conn)?;
        }
        diesel::delete(posts::table.find(post.id)).execute(conn)?;
        log(conn, Some(user.id), "delete_spam", "post", post.id, "spam")?;
        Ok(if post.is_question() { None } else { Some(thread) })
    })
}

/// Erases a person's data on request (admins): the account is anonymised and can no longer log
/// in; their posts stay, shown under "deleted user N".
pub fn erase_person(conn: &mut DbConnection, admin: &User, user_id: i64) -> Result<()> {
    use crate::db::schema::{api_tokens, notification_settings, question_follows, sessions, tag_follows};
    if admin.role() != crate::domain::Role::Admin {
        return Err(Error::forbidden("admins_only", "Only admins can erase a person's data."));
    }
    crate::db::write_transaction(conn, |conn| {
        let target = crate::accounts::users::find(conn, user_id)?;
        if target.id == admin.id {
            return Err(Error::forbidden("cannot_erase_self", "Ask another admin to erase your own account."));
        }
        let name = format!("deleted-user-{user_id}");
        diesel::update(users::table.find(user_id))
            .set((
                users::username.eq(&name),
                users::username_lower.eq(&name),
                users::email.eq(format!("{name}@invalid")),
                users::email_lower.eq(format!("{name}@invalid")),
                users::password_hash.eq("!"),
                users::about.eq(""),
                users::role.eq("user"),
                users::email_verified_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(user_id))).execute(conn)?;
        diesel::delete(notification_settings::table.filter(notification_settings::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(question_follows::table.filter(question_follows::user_id.eq(user_id))).execute(conn)?;
        diesel::delete(tag_follows::table.filter(tag_follows::user_id.eq(user_id))).execute(conn)?;
        log(conn, Some(admin.id), "erase", "user", user_id, "the person asked for their data to be erased")
    })
}
