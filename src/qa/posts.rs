//! Writing posts: ask, answer, comment, edit (with revisions) and accept.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{tags, Post, Time, UserRef, ANSWER, QUESTION};
use crate::accounts::{now, User};
use crate::db::schema::{comments, post_revisions, posts, users};
use crate::db::DbConnection;
use crate::domain::{slugify, CommentBody, PostBody, QuestionTitle, TagName};
use crate::error::{Error, Result};
use crate::markdown;
use crate::moderation;
use crate::notifications::fanout::{self, Event};
use crate::reputation::privileges::Privilege;
use crate::reputation::{self, Policy, Reason};

/// A validated question, ready to write.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub title: QuestionTitle,
    pub body: PostBody,
    pub tags: Vec<TagName>,
}

/// A validated edit. For answers `title` and `tags` are `None`.
#[derive(Debug, Clone)]
pub struct PostEdit {
    pub title: Option<QuestionTitle>,
    pub body: PostBody,
    pub tags: Option<Vec<TagName>>,
    pub summary: String,
}

#[derive(Insertable)]
#[diesel(table_name = posts)]
struct NewPost<'a> {
    kind: &'a str,
    question_id: Option<i64>,
    author_id: i64,
    title: Option<&'a str>,
    slug: &'a str,
    body_md: &'a str,
    body_html: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    last_activity_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Post> {
    posts::table.find(id).select(Post::as_select()).first(conn).optional()?.ok_or(Error::NotFound("post"))
}

/// A question's current version and slug: what a cached page is checked against.
pub fn question_version(conn: &mut DbConnection, id: i64) -> Result<Option<(i64, String)>> {
    Ok(posts::table
        .filter(posts::id.eq(id))
        .filter(posts::kind.eq(QUESTION))
        .select((posts::version, posts::slug))
        .first(conn)
        .optional()?)
}

pub fn find_question(conn: &mut DbConnection, id: i64) -> Result<Post> {
    let p = find(conn, id).map_err(|_| Error::NotFound("question"))?;
    if p.is_question() {
        Ok(p)
    } else {
        Err(Error::NotFound("question"))
    }
}

pub fn find_answer(conn: &mut DbConnection, id: i64) -> Result<Post> {
    let p = find(conn, id).map_err(|_| Error::NotFound("answer"))?;
    if p.kind == ANSWER {
        Ok(p)
    } else {
        Err(Error::NotFound("answer"))
    }
}

fn add_revision(
    conn: &mut DbConnection,
    post_id: i64,
    author_id: i64,
    title: Option<&str>,
    body: &str,
    tags: &str,
    summary: &str,
) -> Result<()> {
    let last: Option<i32> = post_revisions::table
        .filter(post_revisions::post_id.eq(post_id))
        .select(diesel::dsl::max(post_revisions::revision))
        .first(conn)?;
    diesel::insert_into(post_revisions::table)
        .values((
            post_revisions::post_id.eq(post_id),
            post_revisions::revision.eq(last.unwrap_or(0) + 1),
            post_revisions::author_id.eq(author_id),
            post_revisions::title.eq(title),
            post_revisions::body_md.eq(body),
            post_revisions::tags.eq(tags),
            post_revisions::summary.eq(summary),
            post_revisions::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

fn tag_string(tags: &[TagName]) -> String {
    tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" ")
}

/// Asks a question: the post, its first revision and its tags in one transaction.
pub fn ask(conn: &mut DbConnection, policy: &Policy, author: &User, q: &NewQuestion) -> Result<Post> {
    moderation::ensure_can_write(author)?;
    let html = markdown::render(q.body.as_str());
    let slug = slugify(q.title.as_str());
    let now = now();
    crate::db::write_transaction(conn, |conn| {
        let id: i64 = diesel::insert_into(posts::table)
            .values(NewPost {
                kind: QUESTION,
                question_id: None,
                author_id: author.id,
                title: Some(q.title.as_str()),
                slug: &slug,
                body_md: q.body.as_str(),
                body_html: &html,
                created_at: now,
                updated_at: now,
                last_activity_at: now,
            })
            .returning(posts::id)
            .get_result(conn)?;
        tags::set_for_question(conn, &policy.privileges, author, id, &q.tags)?;
        add_revision(conn, id, author.id, Some(q.title.as_str()), q.body.as_str(), &tag_string(&q.tags), "asked")?;
        // Askers hear about answers to their question until they unfollow it.
        crate::notifications::follow_question(conn, author.id, id)?;
        fanout::queue(conn, &Event::Asked { question_id: id })?;
        find(conn, id)
    })
}

/// Answers a question and bumps the thread's activity.
pub fn answer(conn: &mut DbConnection, author: &User, question_id: i64, body: &PostBody) -> Result<Post> {
    moderation::ensure_can_write(author)?;
    let html = markdown::render(body.as_str());
    let now = now();
    crate::db::write_transaction(conn, |conn| {
        let q = find_question(conn, question_id)?;
        moderation::ensure_unlocked(&q)?;
        if q.closed_at.is_some() {
            return Err(Error::forbidden(
                "question_closed",
                "This question is closed: it takes no new answers until it is reopened.",
            ));
        }
        let id: i64 = diesel::insert_into(posts::table)
            .values(NewPost {
                kind: ANSWER,
                question_id: Some(q.id),
                author_id: author.id,
                title: None,
                slug: "",
                body_md: body.as_str(),
                body_html: &html,
                created_at: now,
                updated_at: now,
                last_activity_at: now,
            })
            .returning(posts::id)
            .get_result(conn)?;
        diesel::update(posts::table.find(q.id))
            .set((
                posts::answer_count.eq(posts::answer_count + 1),
                posts::last_activity_at.eq(now),
                posts::version.eq(posts::version + 1),
            ))
            .execute(conn)?;
        add_revision(conn, id, author.id, None, body.as_str(), "", "answered")?;
        fanout::queue(conn, &Event::Answered { answer_id: id })?;
        find(conn, id)
    })
}

/// Edits a post (its author, or someone with the privilege to edit freely). Title and tags only
/// apply to questions. Others' edits go through [`crate::review::suggest`].
pub fn edit(conn: &mut DbConnection, policy: &Policy, editor: &User, post_id: i64, e: &PostEdit) -> Result<Post> {
    moderation::ensure_can_write(editor)?;
    crate::db::write_transaction(conn, |conn| {
        super::lock_post(conn, post_id)?;
        let post = find(conn, post_id)?;
        moderation::ensure_unlocked(&find_question(conn, post.thread_id())?)?;
        if post.author_id != editor.id {
            policy.privileges.require(editor, Privilege::EditFreely)?;
        }
        apply_edit(conn, &policy.privileges, editor, &post, e)
    })
}

/// Writes an edit as a new revision by `editor` (inside the caller's transaction; the caller
/// has checked who may edit).
pub fn apply_edit(
    conn: &mut DbConnection,
    privileges: &crate::reputation::privileges::Privileges,
    editor: &User,
    post: &Post,
    e: &PostEdit,
) -> Result<Post> {
    let html = markdown::render(e.body.as_str());
    let now = now();
    let (title, slug, tag_str) = if post.is_question() {
        let title = e.title.as_ref().map(|t| t.as_str().to_string()).or(post.title.clone());
        let slug = title.as_deref().map(slugify).unwrap_or_else(|| post.slug.clone());
        if let Some(tags) = &e.tags {
            tags::set_for_question(conn, privileges, editor, post.id, tags)?;
        }
        let tag_str = tags::names_for(conn, &[post.id])?.remove(&post.id).unwrap_or_default().join(" ");
        (title, slug, tag_str)
    } else {
        (None, String::new(), String::new())
    };
    diesel::update(posts::table.find(post.id))
        .set((
            posts::title.eq(title.as_deref()),
            posts::slug.eq(&slug),
            posts::body_md.eq(e.body.as_str()),
            posts::body_html.eq(&html),
            posts::updated_at.eq(now),
            posts::last_activity_at.eq(now),
            posts::version.eq(posts::version + 1),
        ))
        .execute(conn)?;
    bump_thread(conn, post.thread_id(), now)?;
    let summary: String = e.summary.trim().chars().take(200).collect();
    add_revision(
        conn,
        post.id,
        editor.id,
        title.as_deref(),
        e.body.as_str(),
        &tag_str,
        if summary.is_empty() { "edited" } else { &summary },
    )?;
    find(conn, post.id)
}

/// Marks a change in a thread: newer activity and a new version (for caches).
fn bump_thread(conn: &mut DbConnection, question_id: i64, at: NaiveDateTime) -> Result<()> {
    diesel::update(posts::table.find(question_id))
        .set((posts::last_activity_at.eq(at), posts::version.eq(posts::version + 1)))
        .execute(conn)?;
    Ok(())
}

/// Accepts an answer (asker only); accepting the accepted answer again un-accepts it. The
/// answerer gets reputation for it and the asker a little for accepting (not for their own
/// answer); withdrawing or moving the accept takes that back.
pub fn accept(conn: &mut DbConnection, policy: &Policy, user: &User, answer_id: i64, accept: bool) -> Result<Post> {
    moderation::ensure_can_write(user)?;
    let rules = &policy.rules;
    crate::db::write_transaction(conn, |conn| {
        let a = find_answer(conn, answer_id)?;
        super::lock_post(conn, a.thread_id())?;
        let q = find_question(conn, a.thread_id())?;
        if q.author_id != user.id {
            return Err(Error::forbidden("not_asker", "Only the person who asked can accept an answer."));
        }
        let new = if accept {
            Some(a.id)
        } else if q.accepted_answer_id == Some(a.id) {
            None
        } else {
            q.accepted_answer_id
        };
        diesel::update(posts::table.find(q.id))
            .set((posts::accepted_answer_id.eq(new), posts::version.eq(posts::version + 1)))
            .execute(conn)?;
        if new != q.accepted_answer_id {
            if let Some(old) = q.accepted_answer_id {
                reputation::reverse(conn, rules, Reason::AnswerAccepted, old, q.author_id)?;
                reputation::reverse(conn, rules, Reason::AcceptedAnswer, old, q.author_id)?;
            }
            if let Some(answer_id) = new {
                let answerer = if answer_id == a.id { a.author_id } else { find_answer(conn, answer_id)?.author_id };
                if answerer != q.author_id {
                    reputation::award(
                        conn,
                        rules,
                        answerer,
                        Reason::AnswerAccepted,
                        Some(answer_id),
                        Some(q.author_id),
                    )?;
                    reputation::award(
                        conn,
                        rules,
                        q.author_id,
                        Reason::AcceptedAnswer,
                        Some(answer_id),
                        Some(q.author_id),
                    )?;
                }
                fanout::queue(conn, &Event::Accepted { answer_id })?;
            }
        }
        find(conn, q.id)
    })
}

/// A comment as shown under a post.
#[derive(Debug, Clone, Serialize)]
pub struct CommentView {
    pub id: i64,
    pub post_id: i64,
    /// Pages show the HTML; the API reads this field directly.
    #[serde(skip_serializing)]
    pub body_markdown: String,
    pub body_html: String,
    pub author: UserRef,
    pub created: Time,
}

/// Comments on a question or an answer: anyone on their own posts and on answers to their own
/// questions, everywhere else with the privilege.
pub fn comment(
    conn: &mut DbConnection,
    policy: &Policy,
    author: &User,
    post_id: i64,
    body: &CommentBody,
) -> Result<CommentView> {
    moderation::ensure_can_write(author)?;
    let html = markdown::render(body.as_str());
    let now = now();
    crate::db::write_transaction(conn, |conn| {
        let post = find(conn, post_id)?;
        moderation::ensure_unlocked(&find_question(conn, post.thread_id())?)?;
        let own = post.author_id == author.id
            || (!post.is_question() && find_question(conn, post.thread_id())?.author_id == author.id);
        if !own {
            policy.privileges.require(author, Privilege::CommentEverywhere)?;
        }
        let id: i64 = diesel::insert_into(comments::table)
            .values((
                comments::post_id.eq(post.id),
                comments::author_id.eq(author.id),
                comments::body_md.eq(body.as_str()),
                comments::body_html.eq(&html),
                comments::created_at.eq(now),
            ))
            .returning(comments::id)
            .get_result(conn)?;
        bump_thread(conn, post.thread_id(), now)?;
        fanout::queue(conn, &Event::Commented { comment_id: id })?;
        Ok(CommentView {
            id,
            post_id: post.id,
            body_markdown: body.as_str().to_string(),
            body_html: html.clone(),
            author: author.into(),
            created: now.into(),
        })
    })
}

/// One entry of a post's revision history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RevisionView {
    pub revision: i32,
    pub title: Option<String>,
    pub body_markdown: String,
    pub body_html: String,
    pub tags: Vec<String>,
    pub summary: String,
    pub author: UserRef,
    pub created: Time,
}

pub fn revisions(conn: &mut DbConnection, post_id: i64) -> Result<Vec<RevisionView>> {
    type Row = (i32, Option<String>, String, String, String, NaiveDateTime, User);
    let rows: Vec<Row> = post_revisions::table
        .inner_join(users::table)
        .filter(post_revisions::post_id.eq(post_id))
        .order(post_revisions::revision.desc())
        .select((
            post_revisions::revision,
            post_revisions::title,
            post_revisions::body_md,
            post_revisions::tags,
            post_revisions::summary,
            post_revisions::created_at,
            User::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(revision, title, body, tags, summary, created, user)| RevisionView {
            revision,
            title,
            body_html: markdown::render(&body),
            body_markdown: body,
            tags: tags.split_whitespace().map(String::from).collect(),
            summary,
            author: (&user).into(),
            created: created.into(),
        })
        .collect())
}
