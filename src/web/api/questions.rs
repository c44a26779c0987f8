//! API: questions, answers, comments, votes, acceptance and revisions.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::types::*;
use crate::domain::{CommentBody, FieldErrors, PostBody, QuestionTitle, TagName};
use crate::error::Error;
use crate::qa::listing::{self, Sort};
use crate::qa::posts::{self, CommentView, NewQuestion, PostEdit, RevisionView};
use crate::qa::thread::{self, ThreadView};
use crate::qa::votes::{self, VoteOutcome};
use crate::qa::{question_path, tags};
use crate::review::EditOutcome;
use crate::web::auth::{ApiJson, ApiUser, MaybeApiUser};
use crate::web::error::{ApiError, Problem};
use crate::web::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// newest (default), active, unanswered, votes or bountied.
    pub sort: Option<String>,
    pub tag: Option<String>,
    /// 1-based.
    pub page: Option<i64>,
    /// 1–100, default 30.
    pub page_size: Option<i64>,
}

async fn load(state: &AppState, id: i64, viewer: Option<i64>) -> Result<ThreadView, Error> {
    let policy = state.settings.policy.clone();
    state
        .db(move |c| {
            let reader = crate::moderation::reader(c, &policy, viewer)?;
            thread::load(c, id, reader)
        })
        .await?
        .ok_or(Error::NotFound("question"))
}

fn check_posting(state: &AppState, user: &crate::accounts::User) -> Result<(), Error> {
    state.limits.post(user.id)
}

/// List questions.
#[utoipa::path(get, path = "/api/v1/questions", tag = "questions", params(ListQuery),
    responses((status = 200, body = QuestionList), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn list_questions(state: web::Data<AppState>, q: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let mut e = FieldErrors::new();
    let sort = match q.sort.as_deref() {
        None => Sort::Newest,
        Some(s) => Sort::parse(s).unwrap_or_else(|| {
            e.add("sort", "sort must be newest, active, unanswered, votes or bountied.");
            Sort::Newest
        }),
    };
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        e.add("page", "page must be between 1 and 100000.");
    }
    let page_size = q.page_size.unwrap_or(30);
    if !(1..=100).contains(&page_size) {
        e.add("page_size", "page_size must be between 1 and 100.");
    }
    if !e.is_empty() {
        return Err(Error::Malformed(e).into());
    }
    let tag = q.tag.clone();
    let result = state
        .db(move |c| {
            let tag_id = match tag {
                Some(name) => Some(tags::find(c, &name.to_lowercase())?.ok_or(Error::NotFound("tag"))?.id),
                None => None,
            };
            listing::questions(c, sort, tag_id, page, page_size)
        })
        .await?;
    Ok(HttpResponse::Ok().json(QuestionList {
        items: result.items.iter().map(|s| QuestionListItem::new(&state, s)).collect(),
        page,
        page_size,
        total: result.total,
    }))
}

fn parse_tags(tags: &[String]) -> Result<Vec<TagName>, String> {
    if tags.len() > 5 {
        return Err(format!("Use at most 5 tags (you gave {}).", tags.len()));
    }
    TagName::parse_list(&tags.join(" "))
}

/// Ask a question.
#[utoipa::path(post, path = "/api/v1/questions", tag = "questions", request_body = QuestionRequest, security(("bearer" = [])),
    responses((status = 201, body = QuestionJson), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn create_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    body: ApiJson<QuestionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let mut e = FieldErrors::new();
    let title = e.check("title", QuestionTitle::parse(&body.title));
    let md = e.check("body", PostBody::parse(&body.body));
    let tag_names = e.check("tags", parse_tags(&body.tags));
    let (Some(title), Some(body), Some(tags)) = (title, md, tag_names) else {
        return Err(Error::Validation(e).into());
    };
    check_posting(&state, &user)?;
    let uid = user.id;
    let policy = state.settings.policy.clone();
    let post = state.db(move |c| posts::ask(c, &policy, &user, &NewQuestion { title, body, tags })).await?;
    state.pages.changed(post.id);
    let t = load(&state, post.id, Some(uid)).await?;
    let json = QuestionJson::new(&state, &t);
    Ok(HttpResponse::Created().insert_header(("Location", json.url.clone())).json(json))
}

/// A question with its answers and comments.
#[utoipa::path(get, path = "/api/v1/questions/{id}", tag = "questions", params(("id" = i64, Path)),
    responses((status = 200, body = QuestionJson), (status = 404, body = Problem)))]
pub async fn get_question(
    state: web::Data<AppState>,
    viewer: MaybeApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let t = load(&state, path.into_inner(), viewer.0.map(|u| u.id)).await?;
    Ok(HttpResponse::Ok().json(QuestionJson::new(&state, &t)))
}

/// Edit a question (fields left out stay as they are). Without the privilege to edit others'
/// posts freely, an edit to someone else's question becomes a suggestion (202).
#[utoipa::path(patch, path = "/api/v1/questions/{id}", tag = "questions", params(("id" = i64, Path)), request_body = QuestionEditRequest,
    security(("bearer" = [])),
    responses((status = 200, body = QuestionJson), (status = 202, body = EditOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn edit_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<QuestionEditRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let id = path.into_inner();
    let current = state.db(move |c| posts::find_question(c, id)).await?;
    let mut e = FieldErrors::new();
    let title = match &body.title {
        Some(t) => e.check("title", QuestionTitle::parse(t)),
        None => None,
    };
    let md = e.check("body", PostBody::parse(body.body.as_deref().unwrap_or(&current.body_md)));
    let new_tags = match &body.tags {
        Some(t) => e.check("tags", parse_tags(t)),
        None => None,
    };
    let (Some(md), true) = (md, e.is_empty()) else {
        return Err(Error::Validation(e).into());
    };
    check_posting(&state, &user)?;
    let change = PostEdit { title, body: md, tags: new_tags, summary: body.summary.unwrap_or_default() };
    let uid = user.id;
    let policy = state.settings.policy.clone();
    let outcome = state.db(move |c| crate::review::edit_or_suggest(c, &policy, &user, id, &change)).await?;
    if let EditOutcome::Suggested { .. } = outcome {
        return Ok(HttpResponse::Accepted().json(outcome));
    }
    state.pages.changed(id);
    let t = load(&state, id, Some(uid)).await?;
    Ok(HttpResponse::Ok().json(QuestionJson::new(&state, &t)))
}

/// One answer as the API shows it, loaded without the rest of its thread.
async fn answer_json(state: &AppState, answer_id: i64, viewer: i64) -> Result<AnswerJson, Error> {
    let policy = state.settings.policy.clone();
    let a = state
        .db(move |c| {
            let reader = crate::moderation::reader(c, &policy, Some(viewer))?;
            thread::load_post(c, answer_id, reader)
        })
        .await?
        .ok_or(Error::NotFound("answer"))?;
    let thread_path = a.path.split('#').next().unwrap_or_default().to_string();
    Ok(AnswerJson::new(state, &thread_path, &a))
}

/// Answer a question.
#[utoipa::path(post, path = "/api/v1/questions/{id}/answers", tag = "answers", params(("id" = i64, Path)), request_body = BodyRequest,
    security(("bearer" = [])),
    responses((status = 201, body = AnswerJson), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_answer(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<BodyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let qid = path.into_inner();
    let md = PostBody::parse(&body.body).map_err(|m| Error::field("body", m))?;
    check_posting(&state, &user)?;
    let uid = user.id;
    let a = state.db(move |c| posts::answer(c, &user, qid, &md)).await?;
    state.pages.changed(qid);
    let json = answer_json(&state, a.id, uid).await?;
    Ok(HttpResponse::Created().insert_header(("Location", json.url.clone())).json(json))
}

/// Edit your answer.
#[utoipa::path(patch, path = "/api/v1/answers/{id}", tag = "answers", params(("id" = i64, Path)), request_body = BodyRequest,
    security(("bearer" = [])),
    responses((status = 200, body = AnswerJson), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn edit_answer(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<BodyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let id = path.into_inner();
    state.db(move |c| posts::find_answer(c, id)).await?;
    let md = PostBody::parse(&body.body).map_err(|m| Error::field("body", m))?;
    check_posting(&state, &user)?;
    let change = PostEdit { title: None, body: md, tags: None, summary: body.summary.unwrap_or_default() };
    let uid = user.id;
    let policy = state.settings.policy.clone();
    let outcome = state.db(move |c| crate::review::edit_or_suggest(c, &policy, &user, id, &change)).await?;
    if let EditOutcome::Suggested { .. } = outcome {
        return Ok(HttpResponse::Accepted().json(outcome));
    }
    state.pages.changed(id);
    Ok(HttpResponse::Ok().json(answer_json(&state, id, uid).await?))
}

async fn set_accept(
    state: &AppState,
    user: crate::accounts::User,
    id: i64,
    accept: bool,
) -> Result<HttpResponse, ApiError> {
    let policy = state.settings.policy.clone();
    let q = state.db(move |c| posts::accept(c, &policy, &user, id, accept)).await?;
    state.pages.changed(q.id);
    Ok(HttpResponse::Ok().json(AcceptResponse { question_id: q.id, accepted_answer_id: q.accepted_answer_id }))
}

/// Accept an answer to your question (replaces an earlier accept).
#[utoipa::path(post, path = "/api/v1/answers/{id}/accept", tag = "answers", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = AcceptResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn accept_answer(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    set_accept(&state, user, path.into_inner(), true).await
}

/// Withdraw the acceptance of an answer.
#[utoipa::path(delete, path = "/api/v1/answers/{id}/accept", tag = "answers", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = AcceptResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn unaccept_answer(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    set_accept(&state, user, path.into_inner(), false).await
}

async fn add_comment(
    state: &AppState,
    user: crate::accounts::User,
    post_id: i64,
    body: BodyRequest,
) -> Result<HttpResponse, ApiError> {
    let md = CommentBody::parse(&body.body).map_err(|m| Error::field("body", m))?;
    check_posting(state, &user)?;
    let policy = state.settings.policy.clone();
    let (c, path): (CommentView, String) = state
        .db(move |c| {
            let view = posts::comment(c, &policy, &user, post_id, &md)?;
            let p = posts::find(c, post_id)?;
            let q = posts::find_question(c, p.thread_id())?;
            Ok((view, question_path(q.id, &q.slug)))
        })
        .await?;
    state.pages.changed(post_id);
    let json = CommentJson::new(state, &path, &c);
    Ok(HttpResponse::Created().insert_header(("Location", json.url.clone())).json(json))
}

/// Comment on a question.
#[utoipa::path(post, path = "/api/v1/questions/{id}/comments", tag = "comments", params(("id" = i64, Path)), request_body = BodyRequest,
    security(("bearer" = [])), responses((status = 201, body = CommentJson), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn comment_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<BodyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let id = path.into_inner();
    state.db(move |c| posts::find_question(c, id)).await?;
    add_comment(&state, user, id, body).await
}

/// Comment on an answer.
#[utoipa::path(post, path = "/api/v1/answers/{id}/comments", tag = "comments", params(("id" = i64, Path)), request_body = BodyRequest,
    security(("bearer" = [])), responses((status = 201, body = CommentJson), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn comment_answer(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<BodyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let id = path.into_inner();
    state.db(move |c| posts::find_answer(c, id)).await?;
    add_comment(&state, user, id, body).await
}

async fn cast(
    state: &AppState,
    user: crate::accounts::User,
    post_id: i64,
    value: i32,
) -> Result<HttpResponse, ApiError> {
    let policy = state.settings.policy.clone();
    let outcome = state.db(move |c| votes::cast(c, &policy, &user, post_id, value)).await?;
    state.pages.changed(post_id);
    Ok(HttpResponse::Ok().json(outcome))
}

/// Vote on a question: 1, -1, or 0 to retract.
#[utoipa::path(put, path = "/api/v1/questions/{id}/vote", tag = "votes", params(("id" = i64, Path)), request_body = VoteRequest,
    security(("bearer" = [])), responses((status = 200, body = VoteOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn vote_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<VoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let id = path.into_inner();
    state.db(move |c| posts::find_question(c, id)).await?;
    cast(&state, user, id, body.value).await
}

/// Vote on an answer: 1, -1, or 0 to retract.
#[utoipa::path(put, path = "/api/v1/answers/{id}/vote", tag = "votes", params(("id" = i64, Path)), request_body = VoteRequest,
    security(("bearer" = [])), responses((status = 200, body = VoteOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn vote_answer(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<VoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let id = path.into_inner();
    state.db(move |c| posts::find_answer(c, id)).await?;
    cast(&state, user, id, body.value).await
}

/// Revision history of a question or an answer, newest first.
#[utoipa::path(get, path = "/api/v1/posts/{id}/revisions", tag = "questions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RevisionView>), (status = 404, body = Problem)))]
pub async fn revisions(state: web::Data<AppState>, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let revs = state
        .db(move |c| {
            posts::find(c, id)?;
            posts::revisions(c, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(revs))
}
