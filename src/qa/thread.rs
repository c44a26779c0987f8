//! Reading a thread: the question, its answers and all comments, in four queries.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::posts::CommentView;
use super::{question_path, tags, votes, Post, Time, UserRef, ANSWER};
use crate::accounts::User;
use crate::db::schema::{comments, posts, users};
use crate::db::DbConnection;
use crate::error::Result;

/// A question or an answer as shown in a thread.
#[derive(Debug, Clone, Serialize)]
pub struct PostView {
    pub id: i64,
    pub kind: String,
    pub question_id: i64,
    pub title: Option<String>,
    /// Public URL path of this post (answers: the thread path with `#answer-ID`).
    pub path: String,
    /// Pages show the HTML; the API reads this field directly.
    #[serde(skip_serializing)]
    pub body_markdown: String,
    pub body_html: String,
    pub score: i64,
    pub author: UserRef,
    pub created: Time,
    pub updated: Time,
    pub edited: bool,
    pub is_accepted: bool,
    /// The viewer's vote: 1, -1 or 0.
    pub viewer_vote: i32,
    pub source: String,
    pub comments: Vec<CommentView>,
    /// Why moderators hid it (shown to its author and to moderators).
    pub hidden_reason: Option<String>,
    /// Hidden, and this reader may not see it: only "hidden by moderators: reason" is shown.
    pub tombstone: bool,
    /// Up and down votes, for readers with the privilege to see them.
    pub vote_split: Option<[i64; 2]>,
}

/// A whole thread.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadView {
    pub question: PostView,
    pub slug: String,
    pub tags: Vec<String>,
    pub view_count: i64,
    pub answer_count: i64,
    pub accepted_answer_id: Option<i64>,
    pub last_activity: Time,
    pub version: i64,
    pub answers: Vec<PostView>,
    /// Whether the viewer follows the question (false for anonymous visitors).
    pub following: bool,
    pub locked_reason: Option<String>,
    /// Why it is closed ("off-topic", "a duplicate", ...), if it is.
    pub closed: Option<String>,
    pub duplicate_of: Option<LinkedQuestion>,
    /// Questions closed as duplicates of this one.
    pub linked: Vec<LinkedQuestion>,
    pub pinned: bool,
    /// The open bounty, if any.
    pub bounty: Option<crate::reputation::bounties::Bounty>,
}

fn view(p: Post, author: &User, thread_path: &str, accepted: Option<i64>) -> PostView {
    let path = if p.kind == ANSWER { format!("{thread_path}#answer-{}", p.id) } else { thread_path.to_string() };
    PostView {
        id: p.id,
        question_id: p.thread_id(),
        title: p.title,
        path,
        body_markdown: p.body_md,
        body_html: p.body_html,
        score: p.score,
        author: author.into(),
        created: p.created_at.into(),
        updated: p.updated_at.into(),
        edited: p.updated_at > p.created_at,
        is_accepted: accepted == Some(p.id),
        viewer_vote: 0,
        source: p.source,
        kind: p.kind,
        comments: Vec::new(),
        hidden_reason: p.hidden_reason,
        tombstone: false,
        vote_split: None,
    }
}

/// Who is reading: their id, and whether they moderate (see hidden posts).
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub user_id: i64,
    pub moderator: bool,
    /// Holds the privilege to see up and down votes separately.
    pub sees_vote_split: bool,
}

/// Hidden posts become tombstones for everyone but their author and moderators.
fn apply_visibility(v: &mut PostView, reader: Option<Reader>) {
    if v.hidden_reason.is_none() || reader.is_some_and(|r| r.moderator || r.user_id == v.author.id) {
        return;
    }
    v.tombstone = true;
    v.body_html.clear();
    v.body_markdown.clear();
    v.comments.clear();
}

/// A question as linked from a banner or a list.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedQuestion {
    pub id: i64,
    pub title: String,
    pub path: String,
}

type CommentRow = (i64, i64, String, String, NaiveDateTime, User);

/// Comments on these posts with their authors, oldest first.
fn comments_on(conn: &mut DbConnection, post_ids: &[i64]) -> Result<Vec<CommentRow>> {
    let mut rows = Vec::new();
    for chunk in post_ids.chunks(500) {
        let part: Vec<CommentRow> = comments::table
            .inner_join(users::table)
            .filter(comments::post_id.eq_any(chunk))
            .order(comments::created_at.asc())
            .select((
                comments::id,
                comments::post_id,
                comments::body_md,
                comments::body_html,
                comments::created_at,
                User::as_select(),
            ))
            .load(conn)?;
        rows.extend(part);
    }
    Ok(rows)
}

fn comment_view((id, post_id, md, html, created, user): CommentRow) -> CommentView {
    CommentView { id, post_id, body_markdown: md, body_html: html, author: (&user).into(), created: created.into() }
}

/// Loads a thread for `viewer` (whose votes are marked). `None` when no such question exists.
pub fn load(conn: &mut DbConnection, question_id: i64, reader: Option<Reader>) -> Result<Option<ThreadView>> {
    let viewer = reader.map(|r| r.user_id);
    let row: Option<(Post, User)> = posts::table
        .inner_join(users::table)
        .filter(posts::id.eq(question_id))
        .filter(posts::kind.eq(super::QUESTION))
        .select((Post::as_select(), User::as_select()))
        .first(conn)
        .optional()?;
    let Some((q, q_author)) = row else { return Ok(None) };
    let path = question_path(q.id, &q.slug);
    let accepted = q.accepted_answer_id;
    let answers: Vec<(Post, User)> = posts::table
        .inner_join(users::table)
        .filter(posts::question_id.eq(q.id))
        .order((posts::score.desc(), posts::created_at.asc()))
        .select((Post::as_select(), User::as_select()))
        .load(conn)?;
    let mut all_ids: Vec<i64> = answers.iter().map(|(a, _)| a.id).collect();
    all_ids.push(q.id);
    let comment_rows = comments_on(conn, &all_ids)?;
    let my_votes = match viewer {
        Some(uid) => votes::of_user(conn, uid, &all_ids)?,
        None => HashMap::new(),
    };
    let tag_names = tags::names_for(conn, &[q.id])?.remove(&q.id).unwrap_or_default();

    let mut by_post: HashMap<i64, Vec<CommentView>> = HashMap::new();
    for row in comment_rows {
        let c = comment_view(row);
        by_post.entry(c.post_id).or_default().push(c);
    }
    let finish = |mut v: PostView, by_post: &mut HashMap<i64, Vec<CommentView>>| {
        v.comments = by_post.remove(&v.id).unwrap_or_default();
        v.viewer_vote = my_votes.get(&v.id).copied().unwrap_or(0);
        v
    };
    let (slug, view_count, answer_count, last_activity, version) =
        (q.slug.clone(), q.view_count, q.answer_count, q.last_activity_at, q.version);
    let (locked_reason, pinned) = (q.locked_reason.clone(), q.pinned_at.is_some());
    let closed =
        q.close_reason.as_deref().and_then(crate::moderation::CloseReason::parse).map(|r| r.label().to_string());
    let duplicate_of = match q.duplicate_of {
        Some(d) => posts::table
            .find(d)
            .select((posts::title, posts::slug))
            .first::<(Option<String>, String)>(conn)
            .optional()?
            .map(|(t, s)| LinkedQuestion { id: d, title: t.unwrap_or_default(), path: question_path(d, &s) }),
        None => None,
    };
    let linked = crate::moderation::linked_duplicates(conn, q.id)?
        .into_iter()
        .map(|(id, title, path)| LinkedQuestion { id, title, path })
        .collect();
    let mut question = finish(view(q, &q_author, &path, accepted), &mut by_post);
    apply_visibility(&mut question, reader);
    let mut answer_views: Vec<PostView> = if question.tombstone {
        Vec::new() // a hidden thread shows the public nothing but its tombstone
    } else {
        answers.into_iter().map(|(a, u)| finish(view(a, &u, &path, accepted), &mut by_post)).collect()
    };
    for a in answer_views.iter_mut() {
        apply_visibility(a, reader);
    }
    if reader.is_some_and(|r| r.sees_vote_split) {
        let mut ids: Vec<i64> = answer_views.iter().map(|a| a.id).collect();
        ids.push(question.id);
        let splits = vote_splits(conn, &ids)?;
        for v in std::iter::once(&mut question).chain(answer_views.iter_mut()) {
            v.vote_split = Some(splits.get(&v.id).copied().unwrap_or([0, 0]));
        }
    }
    // The accepted answer comes first, then by score.
    answer_views.sort_by_key(|a| !a.is_accepted);
    let following = match viewer {
        Some(v) => crate::notifications::follows_question(conn, v, question.id)?,
        None => false,
    };
    Ok(Some(ThreadView {
        question,
        slug,
        tags: tag_names,
        view_count,
        answer_count,
        accepted_answer_id: accepted,
        last_activity: last_activity.into(),
        version,
        answers: answer_views,
        following,
        locked_reason,
        closed,
        duplicate_of,
        linked,
        pinned,
        bounty: crate::reputation::bounties::open_on(conn, question_id)?,
    }))
}

/// Up and down votes of each post.
fn vote_splits(conn: &mut DbConnection, post_ids: &[i64]) -> Result<HashMap<i64, [i64; 2]>> {
    use crate::db::schema::votes;
    let rows: Vec<(i64, i32)> =
        votes::table.filter(votes::post_id.eq_any(post_ids)).select((votes::post_id, votes::value)).load(conn)?;
    let mut out: HashMap<i64, [i64; 2]> = HashMap::new();
    for (post, value) in rows {
        let e = out.entry(post).or_insert([0, 0]);
        if value > 0 {
            e[0] += 1;
        } else {
            e[1] += 1;
        }
    }
    Ok(out)
}

/// Adds buffered view counts (flushed periodically, so a page view is not a write).
pub fn add_views(conn: &mut DbConnection, counts: &HashMap<i64, i64>) -> Result<()> {
    crate::db::write_transaction(conn, |conn| {
        for (id, n) in counts {
            diesel::update(posts::table.find(id)).set(posts::view_count.eq(posts::view_count + n)).execute(conn)?;
        }
        Ok(())
    })
}

/// Loads one post (question or answer) with its comments, as it appears in its thread.
pub fn load_post(conn: &mut DbConnection, post_id: i64, reader: Option<Reader>) -> Result<Option<PostView>> {
    let viewer = reader.map(|r| r.user_id);
    let row: Option<(Post, User)> = posts::table
        .inner_join(users::table)
        .filter(posts::id.eq(post_id))
        .select((Post::as_select(), User::as_select()))
        .first(conn)
        .optional()?;
    let Some((post, author)) = row else { return Ok(None) };
    let thread_id = post.thread_id();
    let q: Option<(String, Option<i64>)> =
        posts::table.find(thread_id).select((posts::slug, posts::accepted_answer_id)).first(conn).optional()?;
    let Some((slug, accepted)) = q else { return Ok(None) };
    let comment_rows = comments_on(conn, &[post_id])?;
    let mut v = view(post, &author, &question_path(thread_id, &slug), accepted);
    v.comments = comment_rows.into_iter().map(comment_view).collect();
    apply_visibility(&mut v, reader);
    if let Some(uid) = viewer {
        v.viewer_vote = votes::of_user(conn, uid, &[post_id])?.get(&post_id).copied().unwrap_or(0);
    }
    Ok(Some(v))
}
