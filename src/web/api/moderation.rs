//! API: flags and their decisions, hide/unhide, lock, pin, close/reopen, suspensions, and the
//! public moderation log.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Error;
use crate::moderation::{self as m, FlagOutcome, FlagRow, LogEntry, NewFlag, VoteOutcome};
use crate::web::auth::{ApiJson, ApiUser};
use crate::web::error::{ApiError, Problem};
use crate::web::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagRequest {
    /// spam, rude, not_an_answer, duplicate, needs_staff or other.
    pub reason: String,
    /// Required for "other".
    #[serde(default)]
    pub details: String,
    /// Required for "duplicate": the question this one duplicates.
    pub duplicate_of: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// True: the flag was helpful; false: declined.
    pub helpful: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// duplicate, off_topic, needs_details, opinion_based or other.
    pub reason: String,
    /// Required for "duplicate".
    pub duplicate_of: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// 1–3650.
    pub days: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suspended {
    pub user_id: i64,
    pub until: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    pub items: Vec<LogEntry>,
    pub page: i64,
    pub total: i64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Only this action (hide, unhide, lock, unlock, pin, unpin, close, reopen, suspend, unsuspend, flag_helpful, flag_declined).
    pub action: Option<String>,
    pub page: Option<i64>,
}

/// Runs a moderation action as the caller, with the site's policy.
async fn act<T: Send + 'static>(
    state: &AppState,
    user: crate::accounts::User,
    f: impl FnOnce(&mut crate::db::DbConnection, &crate::reputation::Policy, &crate::accounts::User) -> Result<T, Error>
        + Send
        + 'static,
) -> Result<T, Error> {
    let policy = state.settings.policy.clone();
    state.db(move |c| f(c, &policy, &user)).await
}

/// Flag a post for moderators (one flag per person per post).
#[utoipa::path(post, path = "/api/v1/posts/{id}/flags", tag = "moderation", params(("id" = i64, Path)), request_body = FlagRequest, security(("bearer" = [])),
    responses((status = 201, body = FlagOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn flag_post(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<FlagRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.get()?;
    let id = path.into_inner();
    let f = NewFlag { reason: b.reason, details: b.details, duplicate_of: b.duplicate_of };
    let outcome = act(&state, user, move |c, p, u| m::flag(c, p, u, id, &f)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::Created().json(outcome))
}

/// Pending flags, oldest first (superusers and staff).
#[utoipa::path(get, path = "/api/v1/flags", tag = "moderation", security(("bearer" = [])),
    responses((status = 200, body = Vec<FlagRow>), (status = 403, body = Problem)))]
pub async fn list_flags(state: web::Data<AppState>, ApiUser(user): ApiUser) -> Result<HttpResponse, ApiError> {
    let rows = act(&state, user, |c, p, u| m::pending_flags(c, p, u, 200)).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Decide a flag: helpful or declined. Exactly one decision wins; a second gets 409.
#[utoipa::path(post, path = "/api/v1/flags/{id}/decision", tag = "moderation", params(("id" = i64, Path)), request_body = DecisionRequest, security(("bearer" = [])),
    responses((status = 200, body = FlagRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn decide_flag(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let helpful = body.get()?.helpful;
    let id = path.into_inner();
    let row = act(&state, user, move |c, p, u| m::decide_flag(c, p, u, id, helpful)).await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Hide a post with a reason (superusers and staff).
#[utoipa::path(post, path = "/api/v1/posts/{id}/hide", tag = "moderation", params(("id" = i64, Path)), request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn hide_post(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.get()?.reason;
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::hide(c, p, u, id, &reason)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Unhide a post.
#[utoipa::path(delete, path = "/api/v1/posts/{id}/hide", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn unhide_post(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::unhide(c, p, u, id, "")).await?;
    state.pages.changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Lock a thread with a reason: no answers, comments, votes or edits.
#[utoipa::path(post, path = "/api/v1/questions/{id}/lock", tag = "moderation", params(("id" = i64, Path)), request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn lock_thread(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.get()?.reason;
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::set_lock(c, p, u, id, Some(&reason))).await?;
    state.pages.changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Unlock a thread.
#[utoipa::path(delete, path = "/api/v1/questions/{id}/lock", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn unlock_thread(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::set_lock(c, p, u, id, None)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Pin a thread to the top of the home page.
#[utoipa::path(put, path = "/api/v1/questions/{id}/pin", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn pin_thread(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::set_pin(c, p, u, id, true)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Unpin a thread.
#[utoipa::path(delete, path = "/api/v1/questions/{id}/pin", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn unpin_thread(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::set_pin(c, p, u, id, false)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Vote to close a question (3 votes, or 1 from a superuser or staff).
#[utoipa::path(post, path = "/api/v1/questions/{id}/close", tag = "moderation", params(("id" = i64, Path)), request_body = CloseRequest, security(("bearer" = [])),
    responses((status = 200, body = VoteOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<CloseRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.get()?;
    let id = path.into_inner();
    let out = act(&state, user, move |c, p, u| m::vote_close(c, p, u, id, &b.reason, b.duplicate_of)).await?;
    state.pages.changed(id);
    if let Some(d) = b.duplicate_of {
        state.pages.changed(d);
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Vote to reopen a closed question.
#[utoipa::path(post, path = "/api/v1/questions/{id}/reopen", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = VoteOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reopen_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let out = act(&state, user, move |c, p, u| m::vote_reopen(c, p, u, id)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::Ok().json(out))
}

/// Suspend a person for some days with a reason (they can read, not write).
#[utoipa::path(post, path = "/api/v1/users/{id}/suspension", tag = "moderation", params(("id" = i64, Path)), request_body = SuspendRequest, security(("bearer" = [])),
    responses((status = 201, body = Suspended), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn suspend_user(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<SuspendRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.get()?;
    let id = path.into_inner();
    let until = act(&state, user, move |c, p, u| m::suspend(c, p, u, id, b.days, &b.reason)).await?;
    Ok(HttpResponse::Created().json(Suspended { user_id: id, until: crate::qa::Time::from(until).iso }))
}

/// Lift a suspension early.
#[utoipa::path(delete, path = "/api/v1/users/{id}/suspension", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn lift_suspension(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::lift_suspension(c, p, u, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The public moderation log, newest first.
#[utoipa::path(get, path = "/api/v1/moderation/log", tag = "moderation", params(LogQuery),
    responses((status = 200, body = LogPage), (status = 400, body = Problem)))]
pub async fn moderation_log(state: web::Data<AppState>, q: web::Query<LogQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(Error::field("page", "page must be between 1 and 100000.").into());
    }
    let (items, total) = state.db(move |c| m::log_page(c, q.action.as_deref(), page, 50)).await?;
    Ok(HttpResponse::Ok().json(LogPage { items, page, total }))
}

/// The review queue: suggested edits, first posts, close/reopen votes and (superusers) flags.
#[utoipa::path(get, path = "/api/v1/review", tag = "moderation", security(("bearer" = [])),
    responses((status = 200, body = crate::review::Queue), (status = 403, body = Problem)))]
pub async fn review_queue(state: web::Data<AppState>, ApiUser(user): ApiUser) -> Result<HttpResponse, ApiError> {
    let q = act(&state, user, crate::review::queue).await?;
    Ok(HttpResponse::Ok().json(q))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub approve: bool,
}

/// Approve or reject a suggested edit (two reviewers decide; the author or a superuser alone).
#[utoipa::path(post, path = "/api/v1/suggested-edits/{id}/review", tag = "moderation", params(("id" = i64, Path)), request_body = ReviewRequest, security(("bearer" = [])),
    responses((status = 200, body = crate::review::ReviewOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn review_edit(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let approve = body.get()?.approve;
    let id = path.into_inner();
    let out = act(&state, user, move |c, p, u| crate::review::review_edit(c, p, u, id, approve)).await?;
    let post_id = state
        .db(move |c| {
            use crate::db::schema::suggested_edits as s;
            use diesel::prelude::*;
            Ok(s::table.find(id).select(s::post_id).first::<i64>(c)?)
        })
        .await?;
    state.pages.changed(post_id);
    Ok(HttpResponse::Ok().json(out))
}

/// Mark a new person's first post as reviewed.
#[utoipa::path(post, path = "/api/v1/first-posts/{id}/review", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn review_first_post(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    act(&state, user, move |c, p, u| crate::review::review_first_post(c, p, u, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BountyRequest {
    /// 50–500 in steps of 50.
    pub amount: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardRequest {
    pub answer_id: i64,
}

/// Offer a bounty on a question (from 75 reputation; the question at least 2 days old).
#[utoipa::path(post, path = "/api/v1/questions/{id}/bounty", tag = "reputation", params(("id" = i64, Path)), request_body = BountyRequest, security(("bearer" = [])),
    responses((status = 201, body = crate::reputation::bounties::Bounty), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn offer_bounty(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<BountyRequest>,
) -> Result<HttpResponse, ApiError> {
    let amount = body.get()?.amount;
    let id = path.into_inner();
    let b = act(&state, user, move |c, p, u| crate::reputation::bounties::offer(c, p, u, id, amount)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::Created().json(b))
}

/// Award the open bounty on a question (the person who offered it).
#[utoipa::path(post, path = "/api/v1/questions/{id}/bounty/award", tag = "reputation", params(("id" = i64, Path)), request_body = AwardRequest, security(("bearer" = [])),
    responses((status = 200, body = crate::reputation::bounties::Bounty), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn award_bounty(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
    body: ApiJson<AwardRequest>,
) -> Result<HttpResponse, ApiError> {
    let answer_id = body.get()?.answer_id;
    let id = path.into_inner();
    let b = act(&state, user, move |c, p, u| crate::reputation::bounties::award(c, p, u, id, answer_id)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::Ok().json(b))
}

/// Delete a spam post for good (superusers and staff). Anything else is hidden, not deleted.
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_spam(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    act(&state, user, move |c, p, u| m::delete_spam(c, p, u, id)).await?;
    state.pages.changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Erase a person's data (admins): the account is anonymised, their posts stay under "deleted user".
#[utoipa::path(post, path = "/api/v1/users/{id}/erase", tag = "moderation", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn erase_person(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    state.db(move |c| m::erase_person(c, &user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
