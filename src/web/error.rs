//! Maps domain errors to HTTP in one place, with two renderings: `application/problem+json`
//! under `/api`, and a page in the site's style everywhere else.

use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpResponse, ResponseError};
use serde::Serialize;

use super::AppState;
use crate::domain::FieldError;
use crate::error::Error;

/// Status, stable code and message of an error.
pub fn classify(e: &Error) -> (StatusCode, &'static str, String) {
    match e {
        Error::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", format!("That {what} does not exist.")),
        Error::Unauthenticated => {
            (StatusCode::UNAUTHORIZED, "unauthenticated", "You need to log in to do that.".into())
        }
        Error::Forbidden { code, message } => (StatusCode::FORBIDDEN, code, message.clone()),
        Error::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone()),
        Error::Validation(f) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", f.to_string()),
        Error::Malformed(f) => (StatusCode::BAD_REQUEST, "malformed_request", f.to_string()),
        Error::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
        Error::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request is larger than {} KiB.", super::auth::BODY_LIMIT / 1024),
        ),
        Error::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many attempts. Try again in {retry_after_secs} seconds."),
        ),
        Error::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The site is busy. Try again in a moment.".into())
        }
        Error::Internal(err) => {
            tracing::error!(error = ?err, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side. It has been logged.".into(),
            )
        }
    }
}

fn retry_after(e: &Error) -> Option<u64> {
    match e {
        Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    }
}

/// An RFC 9457 problem object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case code to branch on.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

pub fn problem_response(status: StatusCode, code: &str, detail: String, errors: Vec<FieldError>) -> HttpResponse {
    let p = Problem {
        type_: format!("/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        code: code.to_string(),
        errors,
    };
    HttpResponse::build(status).content_type("application/problem+json").json(p)
}

/// An error from an API handler, rendered as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub Error);

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        classify(&self.0).0
    }
    fn error_response(&self) -> HttpResponse {
        let (status, code, detail) = classify(&self.0);
        let errors = match &self.0 {
            Error::Validation(f) | Error::Malformed(f) => f.0.clone(),
            _ => Vec::new(),
        };
        let mut res = problem_response(status, code, detail, errors);
        if let Some(secs) = retry_after(&self.0) {
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        if matches!(self.0, Error::Unauthenticated) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// What an HTML error page says; carried on the response for [`render_error_page`].
#[derive(Clone)]
pub struct ErrorPage {
    pub message: String,
    /// Text the person wrote in a form that could not be accepted, shown back so nothing is lost.
    pub kept: Vec<(String, String)>,
}

/// An error from a page handler, rendered as an HTML page by [`render_error_page`].
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct PageError {
    pub error: Error,
    pub kept: Vec<(String, String)>,
}

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        PageError { error, kept: Vec::new() }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        classify(&self.error).0
    }
    fn error_response(&self) -> HttpResponse {
        let (status, _, message) = classify(&self.error);
        let mut res = HttpResponse::build(status).finish();
        if let Some(secs) = retry_after(&self.error) {
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        res.extensions_mut().insert(ErrorPage { message, kept: self.kept.clone() });
        res
    }
}

/// Renders every error response in the right shape: problem JSON under `/api`, the site's
/// error page elsewhere (including the router's own 404 and 405).
pub fn render_error_page<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let is_api = res.request().path().starts_with("/api/");
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let page = res.response().extensions().get::<ErrorPage>().cloned();

    if is_api {
        if content_type.starts_with("application/problem+json") {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "error",
        };
        let detail = status.canonical_reason().unwrap_or("Error").to_string();
        let (req, _) = res.into_parts();
        let new = problem_response(status, code, detail, Vec::new());
        return Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()));
    }

    // A page that needs a log-in sends a browser there and back.
    if status == StatusCode::UNAUTHORIZED && res.request().method() == actix_web::http::Method::GET {
        let next = res.request().uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
        let location = format!("/login?next={}", super::templates::url_encode(&next));
        let (req, _) = res.into_parts();
        let new = HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish();
        return Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()));
    }
    // Pages that render their own error (a form with messages) are left alone.
    if page.is_none() && content_type.starts_with("text/html") {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let kept = page.as_ref().map(|p| p.kept.clone()).unwrap_or_default();
    let message = page.map(|p| p.message).unwrap_or_else(|| match status {
        StatusCode::NOT_FOUND => "There is no page at this address.".into(),
        StatusCode::METHOD_NOT_ALLOWED => "That action is not available here.".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "What you sent is too large.".into(),
        _ => status.canonical_reason().unwrap_or("Error").to_string(),
    });
    let headers = res.headers().clone();
    let (req, _) = res.into_parts();
    let html = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| super::templates::error_page(state, status, &message, &kept).ok())
        .unwrap_or_else(|| {
            format!("<!doctype html><title>{status}</title><p>{}</p>", super::templates::escape(&message))
        });
    let mut new = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html);
    for (name, value) in headers.iter() {
        if name == header::RETRY_AFTER || name == header::SET_COOKIE {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()))
}
