//! API: the in-site notification list, notification settings, following questions and tags.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::types::AuthorJson;
use crate::domain::FieldErrors;
use crate::error::Error;
use crate::notifications::{self as notes, Kind, NotificationView};
use crate::web::auth::{ApiJson, ApiUser};
use crate::web::error::{ApiError, Problem};
use crate::web::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
    /// 1-based.
    pub page: Option<i64>,
    /// 1–100, default 30.
    pub page_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationJson {
    pub id: i64,
    pub kind: Kind,
    pub headline: String,
    pub title: Option<String>,
    /// Absolute URL of what it is about.
    pub url: String,
    pub excerpt: String,
    pub read: bool,
    pub created_at: String,
    pub actor: Option<AuthorJson>,
}

impl NotificationJson {
    fn new(state: &AppState, n: &NotificationView) -> Self {
        NotificationJson {
            id: n.id,
            kind: n.kind,
            headline: n.headline.clone(),
            title: n.title.clone(),
            url: state.url(&n.url),
            excerpt: n.excerpt.clone(),
            read: n.read,
            created_at: n.created.iso.clone(),
            actor: n.actor.as_ref().map(|a| AuthorJson::new(state, a)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationJson>,
    pub page: i64,
    pub page_size: i64,
    pub total: i64,
    pub unread_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many were unread and are now read.
    pub marked: usize,
}

/// Your notification settings: a channel per kind (`email` = e-mail and in-site, `site`, `off`;
/// the digest is `email` or `off`) and the tags you follow.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSettings {
    #[schema(example = json!({"answer": "email", "comment": "site", "mention": "email", "accepted": "email", "digest": "off"}))]
    pub channels: BTreeMap<String, String>,
    pub followed_tags: Vec<String>,
}

fn paging(page: Option<i64>, page_size: Option<i64>) -> Result<(i64, i64), Error> {
    let mut e = FieldErrors::new();
    let page = page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        e.add("page", "page must be between 1 and 100000.");
    }
    let page_size = page_size.unwrap_or(30);
    if !(1..=100).contains(&page_size) {
        e.add("page_size", "page_size must be between 1 and 100.");
    }
    e.into_result().map_err(Error::Malformed)?;
    Ok((page, page_size))
}

/// Your notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationQuery), security(("bearer" = [])),
    responses((status = 200, body = NotificationList), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_notifications(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    q: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, page_size) = paging(q.page, q.page_size)?;
    let (uid, unread_only) = (user.id, q.unread.unwrap_or(false));
    let ((items, total), unread_count) = state
        .db(move |c| Ok((notes::list(c, uid, unread_only, page, page_size)?, notes::unread_count(c, uid)?)))
        .await?;
    Ok(HttpResponse::Ok().json(NotificationList {
        items: items.iter().map(|n| NotificationJson::new(&state, n)).collect(),
        page,
        page_size,
        total,
        unread_count,
    }))
}

/// Mark one of your notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = NotificationJson), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn read_notification(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (uid, id) = (user.id, path.into_inner());
    let n = state.db(move |c| notes::mark_read(c, uid, id)).await?;
    Ok(HttpResponse::Ok().json(NotificationJson::new(&state, &n)))
}

/// Mark all your notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = MarkedRead), (status = 401, body = Problem)))]
pub async fn read_all_notifications(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
) -> Result<HttpResponse, ApiError> {
    let uid = user.id;
    let marked = state.db(move |c| notes::mark_all_read(c, uid)).await?;
    Ok(HttpResponse::Ok().json(MarkedRead { marked }))
}

async fn settings_json(state: &AppState, uid: i64) -> Result<NotificationSettings, Error> {
    let (channels, followed_tags) =
        state.db(move |c| Ok((notes::settings_for(c, uid)?, notes::followed_tags(c, uid)?))).await?;
    Ok(NotificationSettings {
        channels: channels.into_iter().map(|(k, c)| (k.as_str().to_string(), c.as_str().to_string())).collect(),
        followed_tags,
    })
}

/// Your notification settings.
#[utoipa::path(get, path = "/api/v1/notification-settings", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationSettings), (status = 401, body = Problem)))]
pub async fn get_settings(state: web::Data<AppState>, ApiUser(user): ApiUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(settings_json(&state, user.id).await?))
}

/// Change the channel of some kinds: `{"answer": "site", "digest": "email"}`; kinds not named keep theirs.
#[utoipa::path(put, path = "/api/v1/notification-settings", tag = "notifications", security(("bearer" = [])),
    request_body(content = Object, example = json!({"comment": "email", "digest": "email"})),
    responses((status = 200, body = NotificationSettings), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    body: ApiJson<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let chosen = notes::parse_settings(&body.get()?).map_err(Error::Validation)?;
    let uid = user.id;
    state.db(move |c| notes::save_settings(c, uid, &chosen)).await?;
    Ok(HttpResponse::Ok().json(settings_json(&state, uid).await?))
}

/// Follow a question: hear about its new answers.
#[utoipa::path(put, path = "/api/v1/questions/{id}/follow", tag = "notifications", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn follow_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (uid, id) = (user.id, path.into_inner());
    state.db(move |c| notes::follow_question(c, uid, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stop following a question.
#[utoipa::path(delete, path = "/api/v1/questions/{id}/follow", tag = "notifications", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn unfollow_question(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (uid, id) = (user.id, path.into_inner());
    state.db(move |c| notes::unfollow_question(c, uid, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Follow a tag (for the weekly digest).
#[utoipa::path(put, path = "/api/v1/tags/{name}/follow", tag = "notifications", params(("name" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn follow_tag(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (uid, name) = (user.id, path.into_inner().to_lowercase());
    state.db(move |c| notes::follow_tag(c, uid, &name)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stop following a tag.
#[utoipa::path(delete, path = "/api/v1/tags/{name}/follow", tag = "notifications", params(("name" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn unfollow_tag(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (uid, name) = (user.id, path.into_inner().to_lowercase());
    state.db(move |c| notes::unfollow_tag(c, uid, &name)).await?;
    Ok(HttpResponse::NoContent().finish())
}
