//! Badges: a rule-driven set, awarded by a background task every ten minutes. Each rule is a
//! query for the people who meet it; awarding inserts a row per person and badge (the key makes
//! a rerun harmless) and keeps the tier counts beside the reputation.

use std::collections::HashSet;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accounts::now;
use crate::db::schema::{comments, flags, post_revisions, posts, suggested_edits, user_badges, users, votes};
use crate::db::DbConnection;
use crate::error::Result;
use crate::jobs::{Job, JobContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Gold,
    Silver,
    Bronze,
}

/// A badge and what earns it.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Badge {
    pub key: &'static str,
    pub name: &'static str,
    pub tier: Tier,
    pub description: &'static str,
}

const fn badge(key: &'static str, name: &'static str, tier: Tier, description: &'static str) -> Badge {
    Badge { key, name, tier, description }
}

pub const ALL: [Badge; 15] = [
    badge("supporter", "Supporter", Tier::Bronze, "Cast a first upvote"),
    badge("critic", "Critic", Tier::Bronze, "Cast a first downvote"),
    badge("commentator", "Commentator", Tier::Bronze, "Left a first comment"),
    badge("student", "Student", Tier::Bronze, "Asked a question with a score of 1 or more"),
    badge("teacher", "Teacher", Tier::Bronze, "Answered a question with a score of 1 or more"),
    badge("scholar", "Scholar", Tier::Bronze, "Accepted an answer to a question you asked"),
    badge("helper", "Helper", Tier::Bronze, "Had a first answer accepted"),
    badge("citizen_patrol", "Citizen Patrol", Tier::Bronze, "Flagged a first post"),
    badge("editor", "Editor", Tier::Bronze, "Made a first edit"),
    badge("copy_editor", "Copy Editor", Tier::Bronze, "Had a first suggested edit approved"),
    badge("nice_question", "Nice Question", Tier::Bronze, "A question with a score of 10"),
    badge("nice_answer", "Nice Answer", Tier::Bronze, "An answer with a score of 10"),
    badge("good_answer", "Good Answer", Tier::Silver, "An answer with a score of 25"),
    badge("great_answer", "Great Answer", Tier::Gold, "An answer with a score of 100"),
    badge("popular_question", "Popular Question", Tier::Silver, "A question seen 1,000 times"),
];

pub fn find(key: &str) -> Option<&'static Badge> {
    ALL.iter().find(|b| b.key == key)
}

/// Who meets a rule now, with the post that earned it where there is one.
fn qualifiers(conn: &mut DbConnection, key: &str) -> QueryResult<Vec<(i64, Option<i64>)>> {
    let with_post = |rows: Vec<(i64, i64)>| rows.into_iter().map(|(u, p)| (u, Some(p))).collect();
    let without = |rows: Vec<i64>| rows.into_iter().map(|u| (u, None)).collect();
    let post_scored = |conn: &mut DbConnection, kind: &str, min: i64| -> QueryResult<Vec<(i64, i64)>> {
        posts::table
            .filter(posts::kind.eq(kind.to_string()))
            .filter(posts::score.ge(min))
            .select((posts::author_id, posts::id))
            .order(posts::id.asc())
            .load(conn)
    };
    Ok(match key {
        "supporter" => without(votes::table.filter(votes::value.eq(1)).select(votes::user_id).distinct().load(conn)?),
        "critic" => without(votes::table.filter(votes::value.eq(-1)).select(votes::user_id).distinct().load(conn)?),
        "commentator" => without(comments::table.select(comments::author_id).distinct().load(conn)?),
        "student" => with_post(post_scored(conn, crate::qa::QUESTION, 1)?),
        "teacher" => with_post(post_scored(conn, crate::qa::ANSWER, 1)?),
        "scholar" => with_post(
            posts::table
                .filter(posts::accepted_answer_id.is_not_null())
                .select((posts::author_id, posts::id))
                .order(posts::id.asc())
                .load(conn)?,
        ),
        "helper" => {
            // An accepted answer to one's own question does not count.
            let accepted: Vec<(i64, Option<i64>)> = posts::table
                .filter(posts::accepted_answer_id.is_not_null())
                .select((posts::author_id, posts::accepted_answer_id))
                .load(conn)?;
            let ids: Vec<i64> = accepted.iter().filter_map(|(_, a)| *a).collect();
            let authors: std::collections::HashMap<i64, i64> = posts::table
                .filter(posts::id.eq_any(&ids))
                .select((posts::id, posts::author_id))
                .load(conn)?
                .into_iter()
                .collect();
            let mut rows: Vec<(i64, i64)> = accepted
                .into_iter()
                .filter_map(|(asker, a)| {
                    let a = a?;
                    let author = *authors.get(&a)?;
                    (author != asker).then_some((author, a))
                })
                .collect();
            rows.sort_by_key(|r| r.1);
            with_post(rows)
        }
        "citizen_patrol" => without(flags::table.select(flags::user_id).distinct().load(conn)?),
        "editor" => with_post(
            post_revisions::table
                .filter(post_revisions::revision.gt(1))
                .select((post_revisions::author_id, post_revisions::post_id))
                .order(post_revisions::id.asc())
                .load(conn)?,
        ),
        "copy_editor" => with_post(
            suggested_edits::table
                .filter(suggested_edits::status.eq("approved"))
                .select((suggested_edits::author_id, suggested_edits::post_id))
                .order(suggested_edits::id.asc())
                .load(conn)?,
        ),
        "nice_question" => with_post(post_scored(conn, crate::qa::QUESTION, 10)?),
        "nice_answer" => with_post(post_scored(conn, crate::qa::ANSWER, 10)?),
        "good_answer" => with_post(post_scored(conn, crate::qa::ANSWER, 25)?),
        "great_answer" => with_post(post_scored(conn, crate::qa::ANSWER, 100)?),
        "popular_question" => with_post(
            posts::table
                .filter(posts::kind.eq(crate::qa::QUESTION))
                .filter(posts::view_count.ge(1000))
                .select((posts::author_id, posts::id))
                .order(posts::id.asc())
                .load(conn)?,
        ),
        _ => Vec::new(),
    })
}

/// Awards every badge whose rule is met and not yet held. Returns how many were awarded.
pub fn award_all(conn: &mut DbConnection) -> Result<usize> {
    let mut awarded = 0;
    for b in ALL {
        crate::db::write_transaction(conn, |conn| -> Result<()> {
            let held: HashSet<i64> = user_badges::table
                .filter(user_badges::badge.eq(b.key))
                .select(user_badges::user_id)
                .load(conn)?
                .into_iter()
                .collect();
            let mut seen = HashSet::new();
            for (user_id, post_id) in qualifiers(conn, b.key)? {
                if held.contains(&user_id) || !seen.insert(user_id) {
                    continue;
                }
                diesel::insert_into(user_badges::table)
                    .values((
                        user_badges::user_id.eq(user_id),
                        user_badges::badge.eq(b.key),
                        user_badges::post_id.eq(post_id),
                        user_badges::awarded_at.eq(now()),
                    ))
                    .execute(conn)?;
                let q = diesel::update(users::table.find(user_id));
                match b.tier {
                    Tier::Gold => q.set(users::badges_gold.eq(users::badges_gold + 1)).execute(conn)?,
                    Tier::Silver => q.set(users::badges_silver.eq(users::badges_silver + 1)).execute(conn)?,
                    Tier::Bronze => q.set(users::badges_bronze.eq(users::badges_bronze + 1)).execute(conn)?,
                };
                awarded += 1;
            }
            Ok(())
        })?;
    }
    Ok(awarded)
}

/// A badge someone holds, for profiles and the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Held {
    pub badge: Badge,
    pub post_id: Option<i64>,
    pub awarded: crate::qa::Time,
}

pub fn of_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Held>> {
    let rows: Vec<(String, Option<i64>, chrono::NaiveDateTime)> = user_badges::table
        .filter(user_badges::user_id.eq(user_id))
        .select((user_badges::badge, user_badges::post_id, user_badges::awarded_at))
        .order(user_badges::awarded_at.desc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, post_id, at)| Some(Held { badge: *find(&k)?, post_id, awarded: at.into() }))
        .collect())
}

/// The recurring task that awards badges.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwardBadges {}

impl Job for AwardBadges {
    const NAME: &'static str = "badges.award";
}

pub const AWARD_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

pub async fn run_awards(ctx: &JobContext) -> anyhow::Result<()> {
    let n = ctx
        .db(|c| {
            let n = award_all(c).map_err(|e| anyhow::anyhow!("{e}"))?;
            crate::jobs::enqueue(c, &AwardBadges {}, crate::jobs::tasks::recurring(AwardBadges::NAME, AWARD_EVERY))?;
            Ok(n)
        })
        .await?;
    if n > 0 {
        tracing::info!(awarded = n, "badges awarded");
    }
    Ok(())
}
