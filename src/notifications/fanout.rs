//! Fan-out: an event (asked, answered, commented, accepted) is queued as a job in the transaction
//! that causes it; the job works out who hears about it, records one in-site notification per
//! person and queues their e-mail (only to confirmed addresses, only for the kinds they want by
//! mail). The `(user_id, event_key)` key makes a rerun skip whoever already has theirs, so a job
//! retried after a crash notifies nobody twice. The weekly digest is a recurring task.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{channel, headline, questions_about, target_path, unsubscribe_token, Channel, Kind};
use crate::accounts::{now, users, User};
use crate::db::schema::{
    comments, notification_settings, notifications, post_tags, posts, question_follows, tag_follows,
};
use crate::db::DbConnection;
use crate::jobs::{EnqueueOptions, Job, JobContext, Registry};
use crate::mail::Email;
use crate::qa::posts as qa_posts;

/// Something that happened that people may want to hear about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Asked { question_id: i64 },
    Answered { answer_id: i64 },
    Commented { comment_id: i64 },
    Accepted { answer_id: i64 },
}

impl Job for Event {
    const NAME: &'static str = "notifications.fan_out";
}

/// Queues the fan-out of `event` in the current transaction.
pub fn queue(conn: &mut DbConnection, event: &Event) -> diesel::QueryResult<()> {
    crate::jobs::enqueue(conn, event, EnqueueOptions { priority: 5, ..Default::default() })?;
    Ok(())
}

/// What the fan-out needs to write messages: templates, the public address, the signing key.
pub struct Notifier {
    pub tera: tera::Tera,
    pub base_url: String,
    pub site_name: String,
    pub key: [u8; 32],
}

impl Notifier {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Adds the notification jobs to a registry.
pub fn register(registry: Registry, notifier: Arc<Notifier>) -> Registry {
    let n2 = notifier.clone();
    registry
        .register(move |event: Event, ctx: JobContext| {
            let n = notifier.clone();
            async move { ctx.db(move |c| deliver(c, &n, &event)).await.map(|_| ()) }
        })
        .register(move |_: WeeklyDigest, ctx: JobContext| {
            let n = n2.clone();
            async move { weekly_digest(&ctx, n).await }
        })
}

/// One person to tell, and why.
struct Recipient {
    user_id: i64,
    kind: Kind,
    event_key: String,
    reason: &'static str,
}

/// The facts of an event, loaded once.
struct Facts {
    actor_id: i64,
    question_id: i64,
    post_id: i64,
    comment_id: Option<i64>,
    excerpt: String,
    recipients: Vec<Recipient>,
}

/// `@name` mentions in Markdown: lower-cased, unique, at most 20. An `@` inside a word (an
/// e-mail address) is not a mention.
pub fn mentions(markdown: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = markdown.chars().collect();
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut i = 0;
    while i < chars.len() && out.len() < 20 {
        let before_ok = i == 0 || !(is_name(chars[i - 1]) || chars[i - 1] == '.' || chars[i - 1] == '@');
        if chars[i] == '@' && before_ok {
            let word: String = chars[i + 1..].iter().take_while(|c| is_name(**c)).collect();
            let name = word.trim_end_matches('-').to_lowercase();
            if (3..=30).contains(&name.chars().count()) && !out.contains(&name) {
                out.push(name);
            }
            i += 1 + word.chars().count();
        } else {
            i += 1;
        }
    }
    out
}

fn excerpt(markdown: &str) -> String {
    crate::markdown::plain_excerpt(markdown, 240)
}

fn mentioned(conn: &mut DbConnection, markdown: &str, key: String) -> diesel::QueryResult<Vec<Recipient>> {
    use crate::db::schema::users as u;
    let names = mentions(markdown);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = u::table.filter(u::username_lower.eq_any(&names)).select(u::id).load(conn)?;
    Ok(ids
        .into_iter()
        .map(|user_id| Recipient { user_id, kind: Kind::Mention, event_key: key.clone(), reason: "you were mentioned" })
        .collect())
}

fn facts(conn: &mut DbConnection, event: &Event) -> crate::error::Result<Option<Facts>> {
    use crate::error::Error;
    let found = |r: crate::error::Result<crate::qa::Post>| match r {
        Ok(p) => Ok(Some(p)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    };
    Ok(match *event {
        Event::Asked { question_id } => {
            let Some(q) = found(qa_posts::find_question(conn, question_id))? else { return Ok(None) };
            let recipients = mentioned(conn, &q.body_md, format!("mention:post:{}", q.id))?;
            Some(Facts {
                actor_id: q.author_id,
                question_id: q.id,
                post_id: q.id,
                comment_id: None,
                excerpt: excerpt(&q.body_md),
                recipients,
            })
        }
        Event::Answered { answer_id } => {
            let Some(a) = found(qa_posts::find_answer(conn, answer_id))? else { return Ok(None) };
            let q = qa_posts::find_question(conn, a.thread_id())?;
            let key = format!("answer:{}", a.id);
            let mut recipients = vec![Recipient {
                user_id: q.author_id,
                kind: Kind::Answer,
                event_key: key.clone(),
                reason: "you asked this question",
            }];
            let followers: Vec<i64> = question_follows::table
                .filter(question_follows::question_id.eq(q.id))
                .select(question_follows::user_id)
                .order(question_follows::user_id.asc())
                .load(conn)?;
            recipients.extend(followers.into_iter().map(|user_id| Recipient {
                user_id,
                kind: Kind::Answer,
                event_key: key.clone(),
                reason: "you follow this question",
            }));
            recipients.extend(mentioned(conn, &a.body_md, format!("mention:post:{}", a.id))?);
            Some(Facts {
                actor_id: a.author_id,
                question_id: q.id,
                post_id: a.id,
                comment_id: None,
                excerpt: excerpt(&a.body_md),
                recipients,
            })
        }
        Event::Commented { comment_id } => {
            let row: Option<(i64, i64, String)> = comments::table
                .find(comment_id)
                .select((comments::post_id, comments::author_id, comments::body_md))
                .first(conn)
                .optional()?;
            let Some((post_id, author_id, body)) = row else { return Ok(None) };
            let post = qa_posts::find(conn, post_id)?;
            let what = if post.is_question() { "you asked this question" } else { "you wrote this answer" };
            let mut recipients = vec![Recipient {
                user_id: post.author_id,
                kind: Kind::Comment,
                event_key: format!("comment:{comment_id}"),
                reason: what,
            }];
            recipients.extend(mentioned(conn, &body, format!("mention:comment:{comment_id}"))?);
            Some(Facts {
                actor_id: author_id,
                question_id: post.thread_id(),
                post_id,
                comment_id: Some(comment_id),
                excerpt: excerpt(&body),
                recipients,
            })
        }
        Event::Accepted { answer_id } => {
            let Some(a) = found(qa_posts::find_answer(conn, answer_id))? else { return Ok(None) };
            let q = qa_posts::find_question(conn, a.thread_id())?;
            if q.accepted_answer_id != Some(a.id) {
                return Ok(None); // withdrawn before we got to it
            }
            Some(Facts {
                actor_id: q.author_id,
                question_id: q.id,
                post_id: a.id,
                comment_id: None,
                excerpt: excerpt(&a.body_md),
                recipients: vec![Recipient {
                    user_id: a.author_id,
                    kind: Kind::Accepted,
                    event_key: format!("accepted:{}", a.id),
                    reason: "you wrote this answer",
                }],
            })
        }
    })
}

fn already_has(conn: &mut DbConnection, user_id: i64, key: &str) -> diesel::QueryResult<bool> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::event_key.eq(key))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Records the event's notifications and queues its mail, in one transaction. Returns how many
/// people were notified by this call (0 on a rerun).
pub fn deliver(conn: &mut DbConnection, n: &Notifier, event: &Event) -> anyhow::Result<usize> {
    crate::db::write_transaction(conn, |conn| -> crate::error::Result<usize> {
        let Some(f) = facts(conn, event)? else { return Ok(0) };
        let actor = users::find(conn, f.actor_id)?;
        let about = questions_about(conn, &[f.question_id])?;
        let about = about.get(&f.question_id);
        let mut seen = HashSet::from([f.actor_id]);
        let mut delivered = 0;
        for r in &f.recipients {
            // One notification per person per event: the first reason wins.
            if !seen.insert(r.user_id) {
                continue;
            }
            let chosen = channel(conn, r.user_id, r.kind)?;
            if chosen == Channel::Off || already_has(conn, r.user_id, &r.event_key)? {
                continue;
            }
            diesel::insert_into(notifications::table)
                .values((
                    notifications::user_id.eq(r.user_id),
                    notifications::kind.eq(r.kind.as_str()),
                    notifications::event_key.eq(&r.event_key),
                    notifications::actor_id.eq(Some(f.actor_id)),
                    notifications::question_id.eq(Some(f.question_id)),
                    notifications::post_id.eq(Some(f.post_id)),
                    notifications::comment_id.eq(f.comment_id),
                    notifications::excerpt.eq(&f.excerpt),
                    notifications::created_at.eq(now()),
                ))
                .execute(conn)?;
            delivered += 1;
            if chosen != Channel::Email {
                continue;
            }
            let recipient = users::find(conn, r.user_id)?;
            if recipient.email_verified_at.is_none() {
                continue; // unconfirmed addresses get no mail but the confirmation
            }
            let on_question = f.post_id == f.question_id;
            let head = headline(r.kind, &actor.username, r.user_id, about, on_question);
            let link = n.url(&target_path(r.kind, about, Some(f.post_id), f.comment_id));
            let title = about.map(|q| q.title.clone()).unwrap_or_default();
            let mut ctx = mail_context(n, &recipient, r.kind, r.reason);
            ctx.insert("headline", &head);
            ctx.insert("title", &title);
            ctx.insert("excerpt", &f.excerpt);
            ctx.insert("link", &link);
            let mail = render_mail(n, &recipient, r.kind, &format!("{head}: {title}"), "mail_notification", &ctx)?;
            crate::jobs::enqueue(conn, &mail, EnqueueOptions::default())?;
        }
        Ok(delivered)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}

fn mail_context(n: &Notifier, recipient: &User, kind: Kind, reason: &str) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("site_name", &n.site_name);
    ctx.insert("username", &recipient.username);
    ctx.insert("reason", reason);
    ctx.insert("kind_label", kind.label());
    ctx.insert("unsubscribe", &unsubscribe_url(n, recipient.id, kind));
    ctx.insert("settings_link", &n.url("/settings/notifications"));
    ctx
}

fn unsubscribe_url(n: &Notifier, user_id: i64, kind: Kind) -> String {
    n.url(&format!("/unsubscribe/{}", unsubscribe_token(&n.key, user_id, kind)))
}

fn render_mail(
    n: &Notifier,
    recipient: &User,
    kind: Kind,
    subject: &str,
    template: &str,
    ctx: &tera::Context,
) -> crate::error::Result<Email> {
    let render = |name: String| {
        n.tera.render(&name, ctx).map_err(|e| crate::error::Error::Internal(anyhow::anyhow!("template {name}: {e:?}")))
    };
    Ok(Email {
        to: recipient.email.clone(),
        subject: subject.chars().take(200).collect(),
        text: render(format!("{template}.txt"))?,
        html: render(format!("{template}.html"))?,
        unsubscribe: Some(unsubscribe_url(n, recipient.id, kind)),
    })
}

// ---- The weekly digest ----

/// Sends each person who asked for it the week's unanswered questions in the tags they follow.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WeeklyDigest {}

impl Job for WeeklyDigest {
    const NAME: &'static str = "notifications.digest";
}

pub const DIGEST_EVERY: Duration = Duration::from_secs(7 * 24 * 3600);

/// Schedules the digest for the coming Monday 08:00 UTC (once, however many nodes start).
pub fn schedule_digest(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    let now = now();
    let days = (7 - now.weekday().num_days_from_monday()) % 7;
    let monday = (now.date() + TimeDelta::days(i64::from(days))).and_hms_opt(8, 0, 0).unwrap_or(now);
    let next = if monday <= now { monday + TimeDelta::days(7) } else { monday };
    let wait = (next - now).to_std().unwrap_or(DIGEST_EVERY);
    crate::jobs::enqueue(conn, &WeeklyDigest {}, crate::jobs::tasks::recurring(WeeklyDigest::NAME, wait))?;
    Ok(())
}

/// A question in a digest.
#[derive(Debug, Serialize)]
struct DigestItem {
    title: String,
    link: String,
}

async fn weekly_digest(ctx: &JobContext, n: Arc<Notifier>) -> anyhow::Result<()> {
    let subscribers: Vec<i64> = ctx
        .db(|c| {
            Ok(notification_settings::table
                .filter(notification_settings::kind.eq(Kind::Digest.as_str()))
                .filter(notification_settings::channel.eq(Channel::Email.as_str()))
                .select(notification_settings::user_id)
                .order(notification_settings::user_id.asc())
                .load(c)?)
        })
        .await?;
    let week = {
        let w = now().iso_week();
        format!("digest:{}-W{:02}", w.year(), w.week())
    };
    let mut sent = 0;
    // One transaction per person: a rerun after a crash skips whoever already has this week's.
    for user_id in subscribers {
        let (n, week) = (n.clone(), week.clone());
        sent += ctx.db(move |c| digest_for(c, &n, user_id, &week)).await?;
    }
    tracing::info!(sent, "weekly digest");
    ctx.db(|c| {
        Ok(crate::jobs::enqueue(c, &WeeklyDigest {}, crate::jobs::tasks::recurring(WeeklyDigest::NAME, DIGEST_EVERY))?)
    })
    .await?;
    Ok(())
}

fn digest_for(conn: &mut DbConnection, n: &Notifier, user_id: i64, key: &str) -> anyhow::Result<usize> {
    crate::db::write_transaction(conn, |conn| -> crate::error::Result<usize> {
        let user = users::find(conn, user_id)?;
        if user.email_verified_at.is_none() || already_has(conn, user_id, key)? {
            return Ok(0);
        }
        let followed = tag_follows::table.filter(tag_follows::user_id.eq(user_id)).select(tag_follows::tag_id);
        let tagged = post_tags::table.filter(post_tags::tag_id.eq_any(followed)).select(post_tags::post_id);
        let rows: Vec<(i64, Option<String>, String)> = posts::table
            .filter(posts::kind.eq(crate::qa::QUESTION))
            .filter(posts::answer_count.eq(0))
            .filter(posts::created_at.ge(now() - TimeDelta::days(7)))
            .filter(posts::author_id.ne(user_id))
            .filter(posts::id.eq_any(tagged))
            .select((posts::id, posts::title, posts::slug))
            .order(posts::created_at.desc())
            .limit(10)
            .load(conn)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let items: Vec<DigestItem> = rows
            .into_iter()
            .map(|(id, title, slug)| DigestItem {
                title: title.unwrap_or_default(),
                link: n.url(&crate::qa::question_path(id, &slug)),
            })
            .collect();
        let summary = format!(
            "{} unanswered question{} in tags you follow",
            items.len(),
            if items.len() == 1 { "" } else { "s" }
        );
        diesel::insert_into(notifications::table)
            .values((
                notifications::user_id.eq(user_id),
                notifications::kind.eq(Kind::Digest.as_str()),
                notifications::event_key.eq(key),
                notifications::excerpt.eq(&summary),
                notifications::created_at.eq(now()),
                // A record of what was mailed, not news in the list.
                notifications::read_at.eq(Some(now())),
            ))
            .execute(conn)?;
        let mut ctx = mail_context(n, &user, Kind::Digest, "you asked for the weekly digest");
        ctx.insert("items", &items);
        ctx.insert("summary", &summary);
        ctx.insert("link", &n.url("/questions?tab=unanswered"));
        let subject = format!("Your weekly digest: {summary}");
        let mail = render_mail(n, &user, Kind::Digest, &subject, "mail_digest", &ctx)?;
        crate::jobs::enqueue(conn, &mail, EnqueueOptions::default())?;
        Ok(1)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_are_found_at_word_starts_only() {
        assert_eq!(mentions("Thanks @Alice and @bob_2, cc @alice."), vec!["alice", "bob_2"]);
        assert!(mentions("write to help@example.com").is_empty());
        assert!(mentions("@ab is too short, a.@carol neither").is_empty());
        assert_eq!(mentions("(@dave-)"), vec!["dave"]);
    }

    #[test]
    fn at_most_twenty_mentions_are_taken() {
        let text: String = (0..30).map(|i| format!("@user{i:02} ")).collect();
        assert_eq!(mentions(&text).len(), 20);
    }
}
