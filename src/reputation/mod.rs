//! Reputation as a ledger: every change is a row (who, how much, why, which post, whose action,
//! when, and which earlier row it reverses). A person's total is 1 plus the sum of their rows,
//! cached in `users.reputation`; [`rebuild`] replays the whole ledger from the nominal values and
//! must arrive at the same totals.
//!
//! Two rules shape what a row actually gives (its `delta`, next to its `nominal` value):
//! gains from votes and approved edits count towards a daily cap (per UTC day, gross, so a
//! retraction does not reopen room), and nobody drops below 1. A reversal (a vote retracted or
//! changed, an accept withdrawn) takes back exactly what the original row gave, except that it
//! too stops at 1. Both the live path and the replay use [`apply`], so they cannot disagree
//! about the rules, only about the data — which is what the rebuild checks.

pub mod badges;
pub mod bounties;
pub mod privileges;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::now;
use crate::db::schema::{reputation_events, users};
use crate::db::DbConnection;
use crate::error::Result;

/// Why reputation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    QuestionUpvoted,
    AnswerUpvoted,
    /// Your answer was accepted.
    AnswerAccepted,
    /// You accepted someone else's answer.
    AcceptedAnswer,
    PostDownvoted,
    /// You downvoted an answer.
    DownvotedAnswer,
    EditApproved,
    BountyOffered,
    BountyAwarded,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::QuestionUpvoted,
        Reason::AnswerUpvoted,
        Reason::AnswerAccepted,
        Reason::AcceptedAnswer,
        Reason::PostDownvoted,
        Reason::DownvotedAnswer,
        Reason::EditApproved,
        Reason::BountyOffered,
        Reason::BountyAwarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::QuestionUpvoted => "question_upvoted",
            Reason::AnswerUpvoted => "answer_upvoted",
            Reason::AnswerAccepted => "answer_accepted",
            Reason::AcceptedAnswer => "accepted_answer",
            Reason::PostDownvoted => "post_downvoted",
            Reason::DownvotedAnswer => "downvoted_answer",
            Reason::EditApproved => "edit_approved",
            Reason::BountyOffered => "bounty_offered",
            Reason::BountyAwarded => "bounty_awarded",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Gains for this reason count towards the daily cap (votes and edits; accepts and bounties
    /// are exempt).
    pub fn capped(self) -> bool {
        matches!(self, Reason::QuestionUpvoted | Reason::AnswerUpvoted | Reason::EditApproved)
    }

    /// How a profile describes it.
    pub fn label(self) -> &'static str {
        match self {
            Reason::QuestionUpvoted => "question upvoted",
            Reason::AnswerUpvoted => "answer upvoted",
            Reason::AnswerAccepted => "answer accepted",
            Reason::AcceptedAnswer => "accepted an answer",
            Reason::PostDownvoted => "post downvoted",
            Reason::DownvotedAnswer => "downvoted an answer",
            Reason::EditApproved => "suggested edit approved",
            Reason::BountyOffered => "bounty offered",
            Reason::BountyAwarded => "bounty awarded",
        }
    }
}

/// The values of each reason and the daily cap (settings: `NAVE_REPUTATION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub question_upvoted: i64,
    pub answer_upvoted: i64,
    pub answer_accepted: i64,
    pub accepted_answer: i64,
    pub post_downvoted: i64,
    pub downvoted_answer: i64,
    pub edit_approved: i64,
    pub daily_cap: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            question_upvoted: 10,
            answer_upvoted: 10,
            answer_accepted: 15,
            accepted_answer: 2,
            post_downvoted: -2,
            downvoted_answer: -1,
            edit_approved: 2,
            daily_cap: 200,
        }
    }
}

impl Rules {
    /// The nominal value of a reason (bounties carry their own amount).
    pub fn value(&self, reason: Reason) -> i64 {
        match reason {
            Reason::QuestionUpvoted => self.question_upvoted,
            Reason::AnswerUpvoted => self.answer_upvoted,
            Reason::AnswerAccepted => self.answer_accepted,
            Reason::AcceptedAnswer => self.accepted_answer,
            Reason::PostDownvoted => self.post_downvoted,
            Reason::DownvotedAnswer => self.downvoted_answer,
            Reason::EditApproved => self.edit_approved,
            Reason::BountyOffered | Reason::BountyAwarded => 0,
        }
    }

    /// Parses `name=value` pairs separated by commas; names not given keep their defaults.
    pub fn parse(s: &str) -> std::result::Result<Rules, String> {
        let mut r = Rules::default();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not name=value"))?;
            let v: i64 = v.trim().parse().map_err(|_| format!("{k}: {v:?} is not a whole number"))?;
            if !(-10_000..=10_000).contains(&v) {
                return Err(format!("{k}: {v} is out of range (-10000..=10000)"));
            }
            let slot = match k.trim() {
                "question_upvoted" => &mut r.question_upvoted,
                "answer_upvoted" => &mut r.answer_upvoted,
                "answer_accepted" => &mut r.answer_accepted,
                "accepted_answer" => &mut r.accepted_answer,
                "post_downvoted" => &mut r.post_downvoted,
                "downvoted_answer" => &mut r.downvoted_answer,
                "edit_approved" => &mut r.edit_approved,
                "daily_cap" => &mut r.daily_cap,
                other => return Err(format!("unknown reputation rule {other:?}")),
            };
            *slot = v;
        }
        Ok(r)
    }
}

/// The site's reputation values and privilege thresholds, from settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub rules: Rules,
    pub privileges: privileges::Privileges,
}

/// What the rules need to know about a person at the moment a row is applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub total: i64,
    /// The UTC day of `gained_today`.
    pub day: Option<NaiveDate>,
    /// Capped gains already counted on `day`.
    pub gained_today: i64,
}

/// The one place the rules live: what a row with this nominal value gives, given the person's
/// standing; updates the standing. `reverses` is what the reversed row gave.
pub fn apply(
    rules: &Rules,
    standing: &mut Standing,
    reason: Reason,
    nominal: i64,
    reverses: Option<i64>,
    at: NaiveDateTime,
) -> i64 {
    let day = at.date();
    if standing.day != Some(day) {
        standing.day = Some(day);
        standing.gained_today = 0;
    }
    let mut delta = match reverses {
        Some(given) => -given,
        None => nominal,
    };
    if reverses.is_none() && reason.capped() && delta > 0 {
        delta = delta.min((rules.daily_cap - standing.gained_today).max(0));
        standing.gained_today += delta;
    }
    // Nobody drops below 1.
    delta = delta.max(1 - standing.total);
    standing.total += delta;
    delta
}

/// One ledger row as the profile and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: i64,
    pub reason: Reason,
    pub label: &'static str,
    pub delta: i64,
    /// True when this row takes back an earlier one (a retracted vote, a withdrawn accept).
    pub reversal: bool,
    pub post_id: Option<i64>,
    pub created: crate::qa::Time,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = reputation_events)]
struct Row {
    id: i64,
    user_id: i64,
    reason: String,
    delta: i64,
    nominal: i64,
    post_id: Option<i64>,
    actor_id: Option<i64>,
    reverses_id: Option<i64>,
    created_at: NaiveDateTime,
}

/// The person's standing now, from the cached total and today's capped gains.
fn standing(conn: &mut DbConnection, user_id: i64, at: NaiveDateTime) -> Result<Standing> {
    let total: i64 = users::table.find(user_id).select(users::reputation).first(conn)?;
    let start = at.date().and_hms_opt(0, 0, 0).unwrap_or(at);
    let capped: Vec<&str> = Reason::ALL.iter().filter(|r| r.capped()).map(|r| r.as_str()).collect();
    let gains: Vec<i64> = reputation_events::table
        .filter(reputation_events::user_id.eq(user_id))
        .filter(reputation_events::created_at.ge(start))
        .filter(reputation_events::reverses_id.is_null())
        .filter(reputation_events::reason.eq_any(capped))
        .filter(reputation_events::delta.gt(0))
        .select(reputation_events::delta)
        .load(conn)?;
    Ok(Standing { total, day: Some(at.date()), gained_today: gains.iter().sum() })
}

/// A row about to be written.
struct Entry {
    user_id: i64,
    reason: Reason,
    nominal: i64,
    post_id: Option<i64>,
    actor_id: Option<i64>,
    /// The reversed row and what it gave.
    reverses: Option<(i64, i64)>,
}

fn record(conn: &mut DbConnection, rules: &Rules, e: Entry) -> Result<i64> {
    let Entry { user_id, reason, nominal, post_id, actor_id, reverses } = e;
    let at = now();
    let mut s = standing(conn, user_id, at)?;
    let delta = apply(rules, &mut s, reason, nominal, reverses.map(|(_, given)| given), at);
    diesel::insert_into(reputation_events::table)
        .values((
            reputation_events::user_id.eq(user_id),
            reputation_events::reason.eq(reason.as_str()),
            reputation_events::delta.eq(delta),
            reputation_events::nominal.eq(nominal),
            reputation_events::post_id.eq(post_id),
            reputation_events::actor_id.eq(actor_id),
            reputation_events::reverses_id.eq(reverses.map(|(id, _)| id)),
            reputation_events::created_at.eq(at),
        ))
        .execute(conn)?;
    if delta != 0 {
        diesel::update(users::table.find(user_id))
            .set(users::reputation.eq(users::reputation + delta))
            .execute(conn)?;
    }
    Ok(delta)
}

/// Records a change for `reason` (call inside the transaction of the action). Returns what it gave.
pub fn award(
    conn: &mut DbConnection,
    rules: &Rules,
    user_id: i64,
    reason: Reason,
    post_id: Option<i64>,
    actor_id: Option<i64>,
) -> Result<i64> {
    let nominal = rules.value(reason);
    record(conn, rules, Entry { user_id, reason, nominal, post_id, actor_id, reverses: None })
}

/// Records a change of a given amount (bounties).
pub fn award_amount(
    conn: &mut DbConnection,
    rules: &Rules,
    user_id: i64,
    reason: Reason,
    amount: i64,
    post_id: Option<i64>,
    actor_id: Option<i64>,
) -> Result<i64> {
    record(conn, rules, Entry { user_id, reason, nominal: amount, post_id, actor_id, reverses: None })
}

/// Takes back every not-yet-reversed row for `reason` on `post_id` caused by `actor_id`
/// (a retracted vote, a withdrawn accept). Returns how many rows were reversed.
pub fn reverse(conn: &mut DbConnection, rules: &Rules, reason: Reason, post_id: i64, actor_id: i64) -> Result<usize> {
    let rows: Vec<Row> = reputation_events::table
        .filter(reputation_events::reason.eq(reason.as_str()))
        .filter(reputation_events::post_id.eq(post_id))
        .filter(reputation_events::actor_id.eq(actor_id))
        .filter(reputation_events::reverses_id.is_null())
        .select(Row::as_select())
        .order(reputation_events::id.asc())
        .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let done: Vec<Option<i64>> = reputation_events::table
        .filter(reputation_events::reverses_id.eq_any(&ids))
        .select(reputation_events::reverses_id)
        .load(conn)?;
    let mut n = 0;
    for r in rows.iter().filter(|r| !done.contains(&Some(r.id))) {
        let entry = Entry {
            user_id: r.user_id,
            reason,
            nominal: -r.nominal,
            post_id: r.post_id,
            actor_id: r.actor_id,
            reverses: Some((r.id, r.delta)),
        };
        record(conn, rules, entry)?;
        n += 1;
    }
    Ok(n)
}

/// A person's ledger, newest first, and how many rows there are.
pub fn history(conn: &mut DbConnection, user_id: i64, page: i64, per_page: i64) -> Result<(Vec<EventView>, i64)> {
    let total: i64 =
        reputation_events::table.filter(reputation_events::user_id.eq(user_id)).count().get_result(conn)?;
    let rows: Vec<Row> = reputation_events::table
        .filter(reputation_events::user_id.eq(user_id))
        .select(Row::as_select())
        .order(reputation_events::id.desc())
        .offset((page.max(1) - 1) * per_page)
        .limit(per_page)
        .load(conn)?;
    let views = rows
        .into_iter()
        .filter_map(|r| {
            let reason = Reason::parse(&r.reason)?;
            Some(EventView {
                id: r.id,
                reason,
                label: reason.label(),
                delta: r.delta,
                reversal: r.reverses_id.is_some(),
                post_id: r.post_id,
                created: r.created_at.into(),
            })
        })
        .collect();
    Ok((views, total))
}

/// The person's total at the end of each of the last `days` days (for the profile's chart).
pub fn daily_totals(conn: &mut DbConnection, user_id: i64, days: i64) -> Result<Vec<(NaiveDate, i64)>> {
    let rows: Vec<(NaiveDateTime, i64)> = reputation_events::table
        .filter(reputation_events::user_id.eq(user_id))
        .select((reputation_events::created_at, reputation_events::delta))
        .order(reputation_events::id.asc())
        .load(conn)?;
    let today = now().date();
    let first = today - chrono::TimeDelta::days(days - 1);
    let mut total = 1;
    let mut out = Vec::new();
    let mut it = rows.into_iter().peekable();
    let mut day = first;
    while day <= today {
        while let Some((at, d)) = it.peek() {
            if at.date() > day {
                break;
            }
            total += d;
            it.next();
        }
        out.push((day, total));
        day += chrono::TimeDelta::days(1);
    }
    Ok(out)
}

/// What a rebuild found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub users: usize,
    pub events: usize,
    /// Rows whose recorded delta differed from the replay (corrected).
    pub events_corrected: usize,
    /// Cached totals that differed from the replay (corrected).
    pub totals_corrected: usize,
}

/// Replays the whole ledger in order with [`apply`] and writes the totals; rows and totals that
/// differ are corrected and counted (a healthy ledger reports zero of both).
pub fn rebuild(conn: &mut DbConnection, rules: &Rules) -> Result<RebuildReport> {
    crate::db::write_transaction(conn, |conn| {
        let rows: Vec<Row> =
            reputation_events::table.select(Row::as_select()).order(reputation_events::id.asc()).load(conn)?;
        let mut standings: HashMap<i64, Standing> = HashMap::new();
        let mut given: HashMap<i64, i64> = HashMap::new();
        let mut report = RebuildReport { events: rows.len(), ..Default::default() };
        for r in &rows {
            let Some(reason) = Reason::parse(&r.reason) else { continue };
            let s = standings.entry(r.user_id).or_insert(Standing { total: 1, ..Default::default() });
            let reverses = r.reverses_id.map(|id| given.get(&id).copied().unwrap_or(0));
            let delta = apply(rules, s, reason, r.nominal, reverses, r.created_at);
            given.insert(r.id, delta);
            if delta != r.delta {
                report.events_corrected += 1;
                diesel::update(reputation_events::table.find(r.id))
                    .set(reputation_events::delta.eq(delta))
                    .execute(conn)?;
            }
        }
        let cached: Vec<(i64, i64)> = users::table.select((users::id, users::reputation)).load(conn)?;
        report.users = cached.len();
        for (id, rep) in cached {
            let total = standings.get(&id).map(|s| s.total).unwrap_or(1);
            if total != rep {
                report.totals_corrected += 1;
                diesel::update(users::table.find(id)).set(users::reputation.eq(total)).execute(conn)?;
            }
        }
        Ok(report)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn gains_from_votes_stop_at_the_daily_cap_and_resume_the_next_day() {
        let rules = Rules::default();
        let mut s = Standing { total: 1, ..Default::default() };
        let given: Vec<i64> =
            (0..21).map(|_| apply(&rules, &mut s, Reason::AnswerUpvoted, 10, None, at(2, 10))).collect();
        assert_eq!(given.iter().sum::<i64>(), 200);
        assert_eq!(given[20], 0);
        assert_eq!(apply(&rules, &mut s, Reason::AnswerAccepted, 15, None, at(2, 11)), 15, "accepts are exempt");
        assert_eq!(apply(&rules, &mut s, Reason::AnswerUpvoted, 10, None, at(3, 0)), 10, "a new day");
    }

    #[test]
    fn nobody_drops_below_one_and_a_reversal_stops_there_too() {
        let rules = Rules::default();
        let mut s = Standing { total: 1, ..Default::default() };
        assert_eq!(apply(&rules, &mut s, Reason::PostDownvoted, -2, None, at(2, 10)), 0);
        let up = apply(&rules, &mut s, Reason::AnswerUpvoted, 10, None, at(2, 10));
        assert_eq!((up, s.total), (10, 11));
        for _ in 0..6 {
            apply(&rules, &mut s, Reason::PostDownvoted, -2, None, at(2, 10));
        }
        assert_eq!(s.total, 1);
        assert_eq!(apply(&rules, &mut s, Reason::AnswerUpvoted, -10, Some(up), at(2, 11)), 0);
        assert_eq!(s.total, 1);
    }

    #[test]
    fn rules_parse_named_values_and_refuse_unknown_ones() {
        let r = Rules::parse("answer_upvoted=5, daily_cap=50").unwrap();
        assert_eq!((r.answer_upvoted, r.daily_cap, r.question_upvoted), (5, 50, 10));
        assert!(Rules::parse("karma=5").unwrap_err().contains("unknown"));
        assert!(Rules::parse("answer_upvoted=lots").is_err());
    }
}
