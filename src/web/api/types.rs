//! Request and response bodies of the API. Every object carries its `id` and public `url`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::qa::posts::CommentView;
use crate::qa::thread::{PostView, ThreadView};
use crate::qa::{Time, UserRef};
use crate::web::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub username: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Username or e-mail address.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub user: UserJson,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: i64,
    pub url: String,
    pub username: String,
    pub reputation: i64,
    pub role: String,
    pub created_at: String,
}

impl UserJson {
    pub fn new(state: &AppState, u: &crate::accounts::User) -> Self {
        UserJson {
            id: u.id,
            url: state.url(&u.path()),
            username: u.username.clone(),
            reputation: u.reputation,
            role: u.role.clone(),
            created_at: Time::from(u.created_at).iso,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorJson {
    pub id: i64,
    pub url: String,
    pub username: String,
    pub reputation: i64,
}

impl AuthorJson {
    pub fn new(state: &AppState, u: &UserRef) -> Self {
        AuthorJson { id: u.id, url: state.url(&u.path), username: u.username.clone(), reputation: u.reputation }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentJson {
    pub id: i64,
    pub url: String,
    pub post_id: i64,
    pub body_markdown: String,
    pub body_html: String,
    pub author: AuthorJson,
    pub created_at: String,
}

impl CommentJson {
    pub fn new(state: &AppState, thread_path: &str, c: &CommentView) -> Self {
        CommentJson {
            id: c.id,
            url: state.url(&format!("{thread_path}#comment-{}", c.id)),
            post_id: c.post_id,
            body_markdown: c.body_markdown.clone(),
            body_html: c.body_html.clone(),
            author: AuthorJson::new(state, &c.author),
            created_at: c.created.iso.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerJson {
    pub id: i64,
    pub url: String,
    pub question_id: i64,
    pub body_markdown: String,
    pub body_html: String,
    pub score: i64,
    pub is_accepted: bool,
    /// The caller's vote (1, -1, 0); 0 without a token.
    pub my_vote: i32,
    pub author: AuthorJson,
    pub created_at: String,
    pub updated_at: String,
    pub comments: Vec<CommentJson>,
    /// Set when moderators hid it; then only its author and moderators get the text.
    pub hidden_reason: Option<String>,
    /// [up, down] votes, for callers with the privilege to see them.
    pub vote_split: Option<[i64; 2]>,
}

impl AnswerJson {
    pub fn new(state: &AppState, thread_path: &str, a: &PostView) -> Self {
        AnswerJson {
            id: a.id,
            url: state.url(&a.path),
            question_id: a.question_id,
            body_markdown: a.body_markdown.clone(),
            body_html: a.body_html.clone(),
            score: a.score,
            is_accepted: a.is_accepted,
            my_vote: a.viewer_vote,
            author: AuthorJson::new(state, &a.author),
            created_at: a.created.iso.clone(),
            updated_at: a.updated.iso.clone(),
            comments: a.comments.iter().map(|c| CommentJson::new(state, thread_path, c)).collect(),
            hidden_reason: a.hidden_reason.clone(),
            vote_split: a.vote_split,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionJson {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub body_markdown: String,
    pub body_html: String,
    pub tags: Vec<String>,
    pub score: i64,
    pub view_count: i64,
    pub answer_count: i64,
    pub accepted_answer_id: Option<i64>,
    pub my_vote: i32,
    pub source: String,
    pub author: AuthorJson,
    pub created_at: String,
    pub updated_at: String,
    pub last_activity_at: String,
    pub comments: Vec<CommentJson>,
    pub answers: Vec<AnswerJson>,
    /// Set when moderators hid it; then only its author and moderators get the text.
    pub hidden_reason: Option<String>,
    pub locked_reason: Option<String>,
    /// Why it is closed, if it is.
    pub closed: Option<String>,
    /// The question this one duplicates, when closed as a duplicate.
    pub duplicate_of: Option<i64>,
    pub pinned: bool,
    /// The open bounty, if any.
    pub bounty: Option<crate::reputation::bounties::Bounty>,
    /// [up, down] votes, for callers with the privilege to see them.
    pub vote_split: Option<[i64; 2]>,
}

impl QuestionJson {
    pub fn new(state: &AppState, t: &ThreadView) -> Self {
        let q = &t.question;
        QuestionJson {
            id: q.id,
            url: state.url(&q.path),
            title: q.title.clone().unwrap_or_default(),
            body_markdown: q.body_markdown.clone(),
            body_html: q.body_html.clone(),
            tags: t.tags.clone(),
            score: q.score,
            view_count: t.view_count,
            answer_count: t.answer_count,
            accepted_answer_id: t.accepted_answer_id,
            my_vote: q.viewer_vote,
            source: q.source.clone(),
            author: AuthorJson::new(state, &q.author),
            created_at: q.created.iso.clone(),
            updated_at: q.updated.iso.clone(),
            last_activity_at: t.last_activity.iso.clone(),
            comments: q.comments.iter().map(|c| CommentJson::new(state, &q.path, c)).collect(),
            answers: t.answers.iter().map(|a| AnswerJson::new(state, &q.path, a)).collect(),
            hidden_reason: q.hidden_reason.clone(),
            locked_reason: t.locked_reason.clone(),
            closed: t.closed.clone(),
            duplicate_of: t.duplicate_of.as_ref().map(|d| d.id),
            pinned: t.pinned,
            bounty: t.bounty.clone(),
            vote_split: q.vote_split,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionListItem {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub tags: Vec<String>,
    pub score: i64,
    pub answer_count: i64,
    pub view_count: i64,
    pub has_accepted_answer: bool,
    pub author: AuthorJson,
    pub created_at: String,
    pub last_activity_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionList {
    pub items: Vec<QuestionListItem>,
    pub page: i64,
    pub page_size: i64,
    pub total: i64,
}

impl QuestionListItem {
    pub fn new(state: &AppState, s: &crate::qa::listing::QuestionSummary) -> Self {
        QuestionListItem {
            id: s.id,
            url: state.url(&s.path),
            title: s.title.clone(),
            tags: s.tags.clone(),
            score: s.score,
            answer_count: s.answer_count,
            view_count: s.view_count,
            has_accepted_answer: s.has_accepted_answer,
            author: AuthorJson::new(state, &s.author),
            created_at: s.created.iso.clone(),
            last_activity_at: s.last_activity.iso.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    pub title: String,
    /// Markdown, 20–30,000 characters.
    pub body: String,
    /// 1–5 tags of `a-z 0-9 + # . -`.
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionEditRequest {
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
    /// What changed, shown in the revision history.
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyRequest {
    pub body: String,
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    /// 1 (up), -1 (down) or 0 (retract).
    pub value: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptResponse {
    pub question_id: i64,
    pub accepted_answer_id: Option<i64>,
}
