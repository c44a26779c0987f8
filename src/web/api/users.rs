//! API: sign-up, tokens, users.

use actix_web::{web, HttpRequest, HttpResponse};

use super::types::{SignupRequest, TokenRequest, TokenResponse, UserJson};
use crate::accounts::{tokens, users};
use crate::domain::Role;
use crate::error::Error;
use crate::web::auth::ApiJson;
use crate::web::error::{ApiError, Problem};
use crate::web::pages::accounts::{authenticate, parse_signup, register};
use crate::web::{client_ip, AppState};

/// Sign up.
#[utoipa::path(post, path = "/api/v1/users", request_body = SignupRequest, tag = "users",
    responses((status = 201, body = UserJson), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    let (u, m, p) = parse_signup(&body.username, &body.email, &body.password).map_err(Error::Validation)?;
    state.limits.signup(client_ip(&req))?;
    let user = register(&state, u, m, p, Role::User).await?;
    let json = UserJson::new(&state, &user);
    Ok(HttpResponse::Created().insert_header(("Location", json.url.clone())).json(json))
}

/// Exchange a log-in and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenRequest, tag = "users",
    responses((status = 201, body = TokenResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.get()?;
    state.limits.login(client_ip(&req))?;
    let user = authenticate(&state, body.login, body.password).await.map_err(|e| match e {
        Error::Forbidden { .. } => Error::Unauthenticated,
        other => other,
    });
    let user = match user {
        Ok(u) => u,
        Err(Error::Unauthenticated) => {
            return Ok(crate::web::error::problem_response(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "Wrong username, e-mail or password.".into(),
                Vec::new(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let uid = user.id;
    let token = state.db(move |c| tokens::create(c, uid)).await?;
    Ok(HttpResponse::Created().json(TokenResponse { token, user: UserJson::new(&state, &user) }))
}

/// A user by id or username.
#[utoipa::path(get, path = "/api/v1/users/{user}", tag = "users",
    params(("user" = String, Path, description = "numeric id or username")),
    responses((status = 200, body = UserJson), (status = 404, body = Problem)))]
pub async fn get_user(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let user = state
        .db(move |c| match key.parse::<i64>() {
            Ok(id) => users::find(c, id),
            Err(_) => users::find_by_username(c, &key),
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserJson::new(&state, &user)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReputationQuery {
    /// 1-based.
    pub page: Option<i64>,
}

/// A user's reputation ledger, newest first (100 a page).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReputationHistory {
    pub user_id: i64,
    pub reputation: i64,
    pub items: Vec<crate::reputation::EventView>,
    pub page: i64,
    pub total: i64,
}

/// A user's reputation events.
#[utoipa::path(get, path = "/api/v1/users/{user}/reputation", tag = "users",
    params(("user" = String, Path, description = "numeric id or username"), ReputationQuery),
    responses((status = 200, body = ReputationHistory), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn reputation_history(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ReputationQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(Error::field("page", "page must be between 1 and 100000.").into());
    }
    let key = path.into_inner();
    let (user, (items, total)) = state
        .db(move |c| {
            let user = match key.parse::<i64>() {
                Ok(id) => users::find(c, id)?,
                Err(_) => users::find_by_username(c, &key)?,
            };
            let h = crate::reputation::history(c, user.id, page, 100)?;
            Ok((user, h))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReputationHistory { user_id: user.id, reputation: user.reputation, items, page, total }))
}

/// The badges a user holds, newest first.
#[utoipa::path(get, path = "/api/v1/users/{user}/badges", tag = "users",
    params(("user" = String, Path, description = "numeric id or username")),
    responses((status = 200, body = Vec<crate::reputation::badges::Held>), (status = 404, body = Problem)))]
pub async fn user_badges(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let held = state
        .db(move |c| {
            let user = match key.parse::<i64>() {
                Ok(id) => users::find(c, id)?,
                Err(_) => users::find_by_username(c, &key)?,
            };
            crate::reputation::badges::of_user(c, user.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(held))
}
