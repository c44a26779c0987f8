//! Bounties: reputation offered on a question for 7 days. The offerer awards it to an answer; if
//! they do not, an hourly task gives half to the best answer posted during the bounty with a
//! score of at least 2, or nothing.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::privileges::Privilege;
use super::{award_amount, Policy, Reason};
use crate::accounts::{now, User};
use crate::db::schema::{bounties, posts};
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::jobs::{Job, JobContext};

pub const MIN: i64 = 50;
pub const MAX: i64 = 500;
pub const STEP: i64 = 50;
pub const DAYS_OPEN: i64 = 7;
pub const MIN_QUESTION_AGE_DAYS: i64 = 2;
/// Score the best answer needs to get half of an unawarded bounty.
pub const AUTO_AWARD_MIN_SCORE: i64 = 2;

#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = bounties)]
pub struct Bounty {
    pub id: i64,
    pub question_id: i64,
    pub offered_by: i64,
    pub amount: i64,
    /// open, awarded, or expired.
    pub status: String,
    pub awarded_answer_id: Option<i64>,
    pub awarded_amount: i64,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = String)]
    pub ends_at: NaiveDateTime,
}

/// The open bounty on a question, if any.
pub fn open_on(conn: &mut DbConnection, question_id: i64) -> Result<Option<Bounty>> {
    Ok(bounties::table
        .filter(bounties::question_id.eq(question_id))
        .filter(bounties::status.eq("open"))
        .select(Bounty::as_select())
        .first(conn)
        .optional()?)
}

/// Offers a bounty: 50–500 in steps of 50, from 75 reputation, on a question at least 2 days
/// old, one open bounty per question. The amount leaves the offerer's reputation at once.
pub fn offer(conn: &mut DbConnection, policy: &Policy, user: &User, question_id: i64, amount: i64) -> Result<Bounty> {
    crate::moderation::ensure_can_write(user)?;
    policy.privileges.require(user, Privilege::SetBounty)?;
    if !(MIN..=MAX).contains(&amount) || amount % STEP != 0 {
        return Err(Error::field("amount", format!("A bounty is {MIN} to {MAX} reputation, in steps of {STEP}.")));
    }
    if amount > user.reputation {
        return Err(Error::field(
            "amount",
            format!("You have {} reputation, so you cannot offer {amount}.", user.reputation),
        ));
    }
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, question_id)?;
        let q = crate::qa::posts::find_question(conn, question_id)?;
        if q.created_at > now() - TimeDelta::days(MIN_QUESTION_AGE_DAYS) {
            return Err(Error::field(
                "question",
                format!("A bounty can be offered once a question is {MIN_QUESTION_AGE_DAYS} days old."),
            ));
        }
        if q.closed_at.is_some() || q.hidden_at.is_some() {
            return Err(Error::conflict("question_closed", "A closed or hidden question cannot get a bounty."));
        }
        if open_on(conn, q.id)?.is_some() {
            return Err(Error::conflict("bounty_open", "This question already has an open bounty."));
        }
        let at = now();
        let id: i64 = diesel::insert_into(bounties::table)
            .values((
                bounties::question_id.eq(q.id),
                bounties::offered_by.eq(user.id),
                bounties::amount.eq(amount),
                bounties::created_at.eq(at),
                bounties::ends_at.eq(at + TimeDelta::days(DAYS_OPEN)),
            ))
            .returning(bounties::id)
            .get_result(conn)?;
        award_amount(conn, &policy.rules, user.id, Reason::BountyOffered, -amount, Some(q.id), Some(user.id))?;
        diesel::update(posts::table.find(q.id)).set(posts::version.eq(posts::version + 1)).execute(conn)?;
        Ok(bounties::table.find(id).select(Bounty::as_select()).first(conn)?)
    })
}

/// The offerer awards the open bounty on a question to one of its answers.
pub fn award(
    conn: &mut DbConnection,
    policy: &Policy,
    user: &User,
    question_id: i64,
    answer_id: i64,
) -> Result<Bounty> {
    crate::moderation::ensure_can_write(user)?;
    crate::db::write_transaction(conn, |conn| {
        crate::qa::lock_post(conn, question_id)?;
        let b = open_on(conn, question_id)?
            .ok_or_else(|| Error::conflict("no_bounty", "This question has no open bounty."))?;
        if b.offered_by != user.id {
            return Err(Error::forbidden("not_offerer", "Only the person who offered the bounty can award it."));
        }
        let a = crate::qa::posts::find_answer(conn, answer_id)?;
        if a.thread_id() != question_id {
            return Err(Error::field("answer_id", "That answer belongs to another question."));
        }
        if a.author_id == user.id {
            return Err(Error::field("answer_id", "You cannot award your own bounty to your own answer."));
        }
        close(conn, policy, &b, "awarded", Some((a.id, a.author_id)), b.amount)?;
        Ok(bounties::table.find(b.id).select(Bounty::as_select()).first(conn)?)
    })
}

fn close(
    conn: &mut DbConnection,
    policy: &Policy,
    b: &Bounty,
    status: &str,
    to: Option<(i64, i64)>,
    amount: i64,
) -> Result<()> {
    let won = diesel::update(bounties::table.filter(bounties::id.eq(b.id)).filter(bounties::status.eq("open")))
        .set((
            bounties::status.eq(status),
            bounties::awarded_answer_id.eq(to.map(|(a, _)| a)),
            bounties::awarded_amount.eq(if to.is_some() { amount } else { 0 }),
            bounties::closed_at.eq(Some(now())),
        ))
        .execute(conn)?;
    if won == 0 {
        return Err(Error::conflict("no_bounty", "This bounty was already closed."));
    }
    if let Some((answer_id, author)) = to {
        award_amount(conn, &policy.rules, author, Reason::BountyAwarded, amount, Some(answer_id), Some(b.offered_by))?;
    }
    diesel::update(posts::table.find(b.question_id)).set(posts::version.eq(posts::version + 1)).execute(conn)?;
    Ok(())
}

/// Closes every bounty whose time is up: half to the top answer posted during it with a score
/// of at least 2, else nothing. Returns how many were closed.
pub fn expire_due(conn: &mut DbConnection, policy: &Policy) -> Result<usize> {
    let due: Vec<Bounty> = bounties::table
        .filter(bounties::status.eq("open"))
        .filter(bounties::ends_at.le(now()))
        .select(Bounty::as_select())
        .load(conn)?;
    let mut n = 0;
    for b in due {
        crate::db::write_transaction(conn, |conn| -> Result<()> {
            let best: Option<(i64, i64)> = posts::table
                .filter(posts::question_id.eq(b.question_id))
                .filter(posts::created_at.ge(b.created_at))
                .filter(posts::created_at.le(b.ends_at))
                .filter(posts::score.ge(AUTO_AWARD_MIN_SCORE))
                .filter(posts::hidden_at.is_null())
                .filter(posts::author_id.ne(b.offered_by))
                .order((posts::score.desc(), posts::created_at.asc()))
                .select((posts::id, posts::author_id))
                .first(conn)
                .optional()?;
            match close(conn, policy, &b, "expired", best, b.amount / 2) {
                Ok(()) | Err(Error::Conflict { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        })?;
        n += 1;
    }
    Ok(n)
}

/// The hourly task that closes bounties whose 7 days are up.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExpireBounties {}

impl Job for ExpireBounties {
    const NAME: &'static str = "bounties.expire";
}

pub const EXPIRE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs the expiry and schedules the next hour's.
pub async fn run_expiry(ctx: &JobContext, policy: Policy) -> anyhow::Result<()> {
    let n = ctx
        .db(move |c| {
            let n = expire_due(c, &policy).map_err(|e| anyhow::anyhow!("{e}"))?;
            crate::jobs::enqueue(
                c,
                &ExpireBounties {},
                crate::jobs::tasks::recurring(ExpireBounties::NAME, EXPIRE_EVERY),
            )?;
            Ok(n)
        })
        .await?;
    if n > 0 {
        tracing::info!(closed = n, "expired bounties");
    }
    Ok(())
}
