//! Who hears about what, and how: per-person settings for each kind of notification (e-mail and
//! in-site, in-site only, or off), following questions and tags, the in-site list with its unread
//! count, and signed one-click unsubscribe links.
//!
//! Events are queued as a job in the transaction that causes them and fanned out by
//! [`fanout`]; the unique `(user_id, event_key)` row makes a rerun of that job harmless.

pub mod fanout;

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::accounts::now;
use crate::db::schema::{notification_settings, notifications, posts, question_follows, tag_follows, tags};
use crate::db::DbConnection;
use crate::domain::FieldErrors;
use crate::error::{Error, Result};
use crate::qa::{question_path, Time, UserRef};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A new answer to a question you asked or follow.
    Answer,
    /// A new comment on your question or answer.
    Comment,
    /// Someone wrote `@yourname` in a post or comment.
    Mention,
    /// Your answer was accepted.
    Accepted,
    /// The weekly digest of unanswered questions in the tags you follow (e-mail only).
    Digest,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Answer, Kind::Comment, Kind::Mention, Kind::Accepted, Kind::Digest];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Answer => "answer",
            Kind::Comment => "comment",
            Kind::Mention => "mention",
            Kind::Accepted => "accepted",
            Kind::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the settings page names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Answer => "New answers to questions you asked or follow",
            Kind::Comment => "New comments on your questions and answers",
            Kind::Mention => "Someone mentions you with @",
            Kind::Accepted => "Your answer is accepted",
            Kind::Digest => "Weekly digest of unanswered questions in tags you follow",
        }
    }

    pub fn default_channel(self) -> Channel {
        match self {
            Kind::Answer | Kind::Mention | Kind::Accepted => Channel::Email,
            Kind::Comment => Channel::Site,
            Kind::Digest => Channel::Off,
        }
    }

    /// The channels a person may choose for this kind.
    pub fn channels(self) -> &'static [Channel] {
        match self {
            Kind::Digest => &[Channel::Email, Channel::Off],
            _ => &[Channel::Email, Channel::Site, Channel::Off],
        }
    }
}

/// How a person hears about one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// By e-mail and in the site's notification list.
    Email,
    /// In the site's notification list only.
    Site,
    Off,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Site => "site",
            Channel::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Email, Channel::Site, Channel::Off].into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Email => "E-mail and in-site",
            Channel::Site => "In-site only",
            Channel::Off => "Off",
        }
    }
}

/// Every kind with the person's channel for it (the default where they chose none).
pub fn settings_for(conn: &mut DbConnection, user_id: i64) -> Result<Vec<(Kind, Channel)>> {
    let rows: HashMap<String, String> = notification_settings::table
        .filter(notification_settings::user_id.eq(user_id))
        .select((notification_settings::kind, notification_settings::channel))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(Kind::ALL
        .into_iter()
        .map(|k| {
            let chosen = rows.get(k.as_str()).and_then(|c| Channel::parse(c)).filter(|c| k.channels().contains(c));
            (k, chosen.unwrap_or(k.default_channel()))
        })
        .collect())
}

/// The person's channel for one kind.
pub fn channel(conn: &mut DbConnection, user_id: i64, kind: Kind) -> Result<Channel> {
    let row: Option<String> = notification_settings::table
        .find((user_id, kind.as_str()))
        .select(notification_settings::channel)
        .first(conn)
        .optional()?;
    Ok(row.and_then(|c| Channel::parse(&c)).filter(|c| kind.channels().contains(c)).unwrap_or(kind.default_channel()))
}

/// Reads a settings form or JSON object (`kind → channel`); unknown kinds and channels are named.
pub fn parse_settings(input: &BTreeMap<String, String>) -> std::result::Result<Vec<(Kind, Channel)>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for (field, value) in input {
        let Some(kind) = Kind::parse(field) else {
            errors.add(field, format!("There is no notification kind called {field:?}."));
            continue;
        };
        match Channel::parse(value).filter(|c| kind.channels().contains(c)) {
            Some(c) => out.push((kind, c)),
            None => {
                let allowed: Vec<_> = kind.channels().iter().map(|c| c.as_str()).collect();
                errors.add(field, format!("Choose one of: {}.", allowed.join(", ")));
            }
        }
    }
    errors.into_result().map(|_| out)
}

/// Saves the chosen channels (kinds not mentioned keep theirs).
pub fn save_settings(conn: &mut DbConnection, user_id: i64, chosen: &[(Kind, Channel)]) -> Result<()> {
    crate::db::write_transaction(conn, |conn| {
        for (kind, channel) in chosen {
            diesel::delete(notification_settings::table.find((user_id, kind.as_str()))).execute(conn)?;
            diesel::insert_into(notification_settings::table)
                .values((
                    notification_settings::user_id.eq(user_id),
                    notification_settings::kind.eq(kind.as_str()),
                    notification_settings::channel.eq(channel.as_str()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

// ---- Following ----

/// Follows a question (idempotent). Askers follow their own questions from the start.
pub fn follow_question(conn: &mut DbConnection, user_id: i64, question_id: i64) -> Result<()> {
    crate::qa::posts::find_question(conn, question_id)?;
    if !follows_question(conn, user_id, question_id)? {
        diesel::insert_into(question_follows::table)
            .values((
                question_follows::user_id.eq(user_id),
                question_follows::question_id.eq(question_id),
                question_follows::created_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn unfollow_question(conn: &mut DbConnection, user_id: i64, question_id: i64) -> Result<()> {
    crate::qa::posts::find_question(conn, question_id)?;
    diesel::delete(question_follows::table.find((user_id, question_id))).execute(conn)?;
    Ok(())
}

pub fn follows_question(conn: &mut DbConnection, user_id: i64, question_id: i64) -> Result<bool> {
    Ok(question_follows::table.find((user_id, question_id)).count().get_result::<i64>(conn)? > 0)
}

/// Follows a tag by name (idempotent); the tag must exist.
pub fn follow_tag(conn: &mut DbConnection, user_id: i64, name: &str) -> Result<()> {
    let tag = crate::qa::tags::find(conn, name)?.ok_or(Error::NotFound("tag"))?;
    if !follows_tag(conn, user_id, tag.id)? {
        diesel::insert_into(tag_follows::table)
            .values((
                tag_follows::user_id.eq(user_id),
                tag_follows::tag_id.eq(tag.id),
                tag_follows::created_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn unfollow_tag(conn: &mut DbConnection, user_id: i64, name: &str) -> Result<()> {
    let tag = crate::qa::tags::find(conn, name)?.ok_or(Error::NotFound("tag"))?;
    diesel::delete(tag_follows::table.find((user_id, tag.id))).execute(conn)?;
    Ok(())
}

pub fn follows_tag(conn: &mut DbConnection, user_id: i64, tag_id: i64) -> Result<bool> {
    Ok(tag_follows::table.find((user_id, tag_id)).count().get_result::<i64>(conn)? > 0)
}

/// Names of the tags a person follows, alphabetically.
pub fn followed_tags(conn: &mut DbConnection, user_id: i64) -> Result<Vec<String>> {
    Ok(tag_follows::table
        .inner_join(tags::table)
        .filter(tag_follows::user_id.eq(user_id))
        .select(tags::name)
        .order(tags::name.asc())
        .load(conn)?)
}

// ---- The in-site list ----

/// One notification as the list and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: i64,
    pub kind: Kind,
    /// One line: "alice answered your question".
    pub headline: String,
    /// The question it is about, if any.
    pub title: Option<String>,
    /// Where it leads, relative to the site.
    pub url: String,
    pub excerpt: String,
    pub read: bool,
    pub created: Time,
    pub actor: Option<UserRef>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = notifications)]
struct Row {
    id: i64,
    user_id: i64,
    kind: String,
    actor_id: Option<i64>,
    question_id: Option<i64>,
    post_id: Option<i64>,
    comment_id: Option<i64>,
    excerpt: String,
    created_at: chrono::NaiveDateTime,
    read_at: Option<chrono::NaiveDateTime>,
}

/// The question a notification is about, as needed to describe it.
pub struct About {
    pub title: String,
    pub path: String,
    pub asker_id: i64,
}

/// The one-line description of a notification, shared by the list and the e-mail.
pub fn headline(kind: Kind, actor: &str, recipient_id: i64, about: Option<&About>, on_question: bool) -> String {
    match kind {
        Kind::Answer if about.is_some_and(|q| q.asker_id == recipient_id) => format!("{actor} answered your question"),
        Kind::Answer => format!("{actor} answered a question you follow"),
        Kind::Comment if on_question => format!("{actor} commented on your question"),
        Kind::Comment => format!("{actor} commented on your answer"),
        Kind::Mention => format!("{actor} mentioned you"),
        Kind::Accepted => format!("{actor} accepted your answer"),
        Kind::Digest => "Your weekly digest".to_string(),
    }
}

/// Where a notification leads: the post or comment within its thread.
pub fn target_path(kind: Kind, about: Option<&About>, post_id: Option<i64>, comment_id: Option<i64>) -> String {
    let Some(q) = about else {
        return if kind == Kind::Digest { "/questions?tab=unanswered".into() } else { "/notifications".into() };
    };
    match (comment_id, post_id) {
        (Some(c), _) => format!("{}#comment-{c}", q.path),
        (None, Some(p)) if kind != Kind::Digest && q.path != format!("/questions/{p}") => {
            format!("{}#answer-{p}", q.path)
        }
        _ => q.path.clone(),
    }
}

/// The questions behind some notifications, by id.
pub fn questions_about(conn: &mut DbConnection, ids: &[i64]) -> Result<HashMap<i64, About>> {
    let rows: Vec<(i64, Option<String>, String, i64)> = posts::table
        .filter(posts::id.eq_any(ids))
        .select((posts::id, posts::title, posts::slug, posts::author_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, title, slug, asker_id)| {
            (id, About { title: title.unwrap_or_default(), path: question_path(id, &slug), asker_id })
        })
        .collect())
}

fn views(conn: &mut DbConnection, rows: Vec<Row>) -> Result<Vec<NotificationView>> {
    let actor_ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_id).collect();
    let actors: HashMap<i64, UserRef> =
        crate::accounts::users::find_many(conn, &actor_ids)?.iter().map(|u| (u.id, UserRef::from(u))).collect();
    let question_ids: Vec<i64> = rows.iter().filter_map(|r| r.question_id).collect();
    let questions = questions_about(conn, &question_ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = Kind::parse(&r.kind)?;
            let about = r.question_id.and_then(|q| questions.get(&q));
            let actor = r.actor_id.and_then(|a| actors.get(&a)).cloned();
            let name = actor.as_ref().map(|a| a.username.clone()).unwrap_or_else(|| "Someone".into());
            let on_question = r.post_id.is_some() && r.post_id == r.question_id;
            Some(NotificationView {
                id: r.id,
                kind,
                headline: headline(kind, &name, r.user_id, about, on_question),
                title: about.map(|q| q.title.clone()),
                url: target_path(kind, about, r.post_id, r.comment_id),
                excerpt: r.excerpt,
                read: r.read_at.is_some(),
                created: r.created_at.into(),
                actor,
            })
        })
        .collect())
}

/// A page of a person's notifications, newest first, and how many there are in all.
pub fn list(
    conn: &mut DbConnection,
    user_id: i64,
    unread_only: bool,
    page: i64,
    per_page: i64,
) -> Result<(Vec<NotificationView>, i64)> {
    let mut query = notifications::table.filter(notifications::user_id.eq(user_id)).into_boxed();
    let mut count = notifications::table.filter(notifications::user_id.eq(user_id)).into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
        count = count.filter(notifications::read_at.is_null());
    }
    let total: i64 = count.count().get_result(conn)?;
    let rows: Vec<Row> = query
        .select(Row::as_select())
        .order(notifications::id.desc())
        .offset((page.max(1) - 1) * per_page)
        .limit(per_page)
        .load(conn)?;
    Ok((views(conn, rows)?, total))
}

pub fn unread_count(conn: &mut DbConnection, user_id: i64) -> Result<i64> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Marks one of the person's notifications read and returns it (someone else's is "not found").
pub fn mark_read(conn: &mut DbConnection, user_id: i64, id: i64) -> Result<NotificationView> {
    let row: Row = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user_id))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound("notification"))?;
    if row.read_at.is_none() {
        diesel::update(notifications::table.find(id)).set(notifications::read_at.eq(Some(now()))).execute(conn)?;
    }
    let mut v = views(conn, vec![row])?.pop().ok_or(Error::NotFound("notification"))?;
    v.read = true;
    Ok(v)
}

/// Marks every unread notification of the person read; returns how many.
pub fn mark_all_read(conn: &mut DbConnection, user_id: i64) -> Result<usize> {
    Ok(diesel::update(
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Some(now())))
    .execute(conn)?)
}

// ---- Unsubscribe links ----

/// The first 16 bytes of an HMAC-SHA256 over the person and the kind.
fn unsubscribe_tag(key: &[u8; 32], user_id: i64, kind: Kind) -> [u8; 16] {
    let mut tag = [0u8; 16];
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
        mac.update(format!("nave unsubscribe\0{user_id}\0{}", kind.as_str()).as_bytes());
        tag.copy_from_slice(&mac.finalize().into_bytes()[..16]);
    }
    tag
}

/// The token of a one-click unsubscribe link: who, which kind, and a MAC over both.
pub fn unsubscribe_token(key: &[u8; 32], user_id: i64, kind: Kind) -> String {
    format!("{user_id}-{}-{}", kind.as_str(), hex::encode(unsubscribe_tag(key, user_id, kind)))
}

/// Who and which kind a token is for, if its MAC checks out (compared in constant time).
pub fn verify_unsubscribe(key: &[u8; 32], token: &str) -> Option<(i64, Kind)> {
    use subtle::ConstantTimeEq;
    let mut parts = token.splitn(3, '-');
    let user_id: i64 = parts.next()?.parse().ok()?;
    let kind = Kind::parse(parts.next()?)?;
    let given = hex::decode(parts.next()?).ok()?;
    let expected = unsubscribe_tag(key, user_id, kind);
    bool::from(given.as_slice().ct_eq(&expected)).then_some((user_id, kind))
}

/// Stops e-mail of one kind (it stays in-site, except the digest which is e-mail only).
/// Returns the channel now in force.
pub fn unsubscribe(conn: &mut DbConnection, user_id: i64, kind: Kind) -> Result<Channel> {
    crate::accounts::users::find(conn, user_id)?;
    let current = channel(conn, user_id, kind)?;
    if current != Channel::Email {
        return Ok(current);
    }
    let next = if kind.channels().contains(&Channel::Site) { Channel::Site } else { Channel::Off };
    save_settings(conn, user_id, &[(kind, next)])?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn an_unsubscribe_token_verifies_for_its_person_and_kind() {
        let t = unsubscribe_token(&KEY, 42, Kind::Answer);
        assert_eq!(verify_unsubscribe(&KEY, &t), Some((42, Kind::Answer)));
    }

    #[test]
    fn a_tampered_unsubscribe_token_is_rejected() {
        let t = unsubscribe_token(&KEY, 42, Kind::Answer);
        assert_eq!(verify_unsubscribe(&KEY, &t.replacen("42-", "43-", 1)), None);
        assert_eq!(verify_unsubscribe(&KEY, &t.replace("-answer-", "-mention-")), None);
        let mut flipped = t.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(verify_unsubscribe(&KEY, &flipped), None);
        assert_eq!(verify_unsubscribe(&[8; 32], &t), None);
        assert_eq!(verify_unsubscribe(&KEY, "42-answer"), None);
        assert_eq!(verify_unsubscribe(&KEY, ""), None);
    }

    #[test]
    fn settings_name_unknown_kinds_and_channels() {
        let input: BTreeMap<String, String> =
            [("answer", "site"), ("digest", "site"), ("weather", "email")].map(|(a, b)| (a.into(), b.into())).into();
        let e = parse_settings(&input).unwrap_err().by_field();
        assert!(e["digest"].contains("email, off"), "{e:?}");
        assert!(e["weather"].contains("no notification kind"), "{e:?}");
        assert!(!e.contains_key("answer"));
    }
}
