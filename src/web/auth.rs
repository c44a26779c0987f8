//! Who is asking: the session cookie (pages), the bearer token (API), and CSRF protection.
//!
//! CSRF uses a signed double-submit token: a random `nave_csrf` cookie (HttpOnly, SameSite=Lax)
//! and, in every form, HMAC(key, csrf cookie ‖ session cookie). Logging in changes the session
//! cookie, so tokens from before the log-in stop working.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponseBuilder};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::{ApiError, PageError};
use super::AppState;
use crate::accounts::{self, sessions::Session, User};
use crate::error::Error;

pub const SESSION_COOKIE: &str = "nave_session";
pub const CSRF_COOKIE: &str = "nave_csrf";
/// Largest form or JSON body accepted (a 30,000-character post in 4-byte characters fits).
pub const BODY_LIMIT: usize = 256 * 1024;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, Error> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("application state missing")))
}

/// The person viewing a page: a session, or nobody. Also carries the CSRF token for forms.
#[derive(Clone)]
pub struct Viewer {
    pub session: Option<Session>,
    pub csrf_token: String,
    /// A new CSRF cookie to set on the response (first visit).
    pub new_csrf_cookie: Option<String>,
    /// What to do with the session cookie on the response.
    pub session_cookie: SessionCookie,
    /// Unread in-site notifications (the bell in the header).
    pub unread: i64,
}

/// The session cookie needs no change, a fresh expiry (the session is in use), or removal
/// (the server no longer knows it, e.g. after "log out everywhere").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionCookie {
    Keep,
    Renew(String),
    Remove,
}

impl Viewer {
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }
    pub fn user_id(&self) -> Option<i64> {
        self.user().map(|u| u.id)
    }
    /// The user, or an error that sends a browser to the log-in page.
    pub fn require(&self) -> Result<&User, Error> {
        self.user().ok_or(Error::Unauthenticated)
    }
    /// Sets cookies the page needs (the CSRF cookie on a first visit).
    pub fn apply(&self, state: &AppState, res: &mut HttpResponseBuilder) {
        if let Some(v) = &self.new_csrf_cookie {
            res.cookie(csrf_cookie(state, v.clone()));
        }
        match &self.session_cookie {
            SessionCookie::Keep => {}
            SessionCookie::Renew(token) => {
                res.cookie(session_cookie(state, token.clone()));
            }
            SessionCookie::Remove => {
                res.cookie(removal_cookie(SESSION_COOKIE));
            }
        }
    }
}

pub fn csrf_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(365))
        .finish()
}

pub fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::minutes(state.settings.session_idle_minutes))
        .finish()
}

pub fn removal_cookie(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path("/").finish();
    c.make_removal();
    c
}

/// The token a form must carry, given the CSRF cookie and the session cookie.
pub fn csrf_token(key: &[u8; 32], csrf_cookie: &str, session_cookie: &str) -> String {
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(csrf_cookie.as_bytes());
    mac.update(b"\x00");
    mac.update(session_cookie.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_string()).filter(|v| !v.is_empty())
}

/// Checks a submitted CSRF token in constant time against the one this viewer's pages carry.
pub fn verify_csrf(viewer: &Viewer, submitted: Option<&str>) -> Result<(), Error> {
    if viewer.new_csrf_cookie.is_some() {
        // No CSRF cookie came with the request, so no token can match.
        return Err(csrf_error());
    }
    match submitted {
        Some(s) if bool::from(s.as_bytes().ct_eq(viewer.csrf_token.as_bytes())) => Ok(()),
        _ => Err(csrf_error()),
    }
}

fn csrf_error() -> Error {
    Error::forbidden(
        "csrf_failed",
        "This form has expired or did not come from this site, so it was not sent. Go back, reload the page and submit it again.",
    )
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(v) = req.extensions().get::<Viewer>() {
                return Ok(v.clone());
            }
            let state = state(&req)?;
            let session_token = cookie_value(&req, SESSION_COOKIE);
            let session = match session_token.clone() {
                Some(token) => {
                    let idle = state.settings.session_idle_minutes;
                    state
                        .db(move |c| {
                            let Some(s) = accounts::sessions::lookup(c, &token, idle)? else { return Ok(None) };
                            let unread = crate::notifications::unread_count(c, s.user.id)?;
                            Ok(Some((s, unread)))
                        })
                        .await?
                }
                None => None,
            };
            let (session, unread) = match session {
                Some((s, n)) => (Some(s), n),
                None => (None, 0),
            };
            let cookie_action = match (&session, &session_token) {
                (Some(s), Some(token)) if s.renewed => SessionCookie::Renew(token.clone()),
                (None, Some(_)) => SessionCookie::Remove,
                _ => SessionCookie::Keep,
            };
            let (csrf, new_csrf_cookie) = match cookie_value(&req, CSRF_COOKIE) {
                Some(v) => (v, None),
                None => {
                    let v = accounts::random_token();
                    (v.clone(), Some(v))
                }
            };
            let session_part = if session.is_some() { session_token.unwrap_or_default() } else { String::new() };
            let viewer = Viewer {
                csrf_token: csrf_token(&state.key, &csrf, &session_part),
                session,
                new_csrf_cookie,
                session_cookie: cookie_action,
                unread,
            };
            req.extensions_mut().insert(viewer.clone());
            Ok(viewer)
        })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    csrf_token: Option<String>,
}

/// A URL-encoded form whose CSRF token has been checked. Fields the form does not name are
/// ignored; a body over [`BODY_LIMIT`] is refused with 413.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let viewer = Viewer::from_request(&req, &mut actix_web::dev::Payload::None).await?;
            let bytes = body.await.map_err(body_error)?;
            let field: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField { csrf_token: None });
            if let Err(error) = verify_csrf(&viewer, field.csrf_token.as_deref()) {
                return Err(PageError { error, kept: kept_text(&bytes) });
            }
            let value = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| Error::BadRequest(format!("The form could not be read: {e}.")))?;
            Ok(CsrfForm(value))
        })
    }
}

/// The free-text fields of a refused form (never passwords or tokens), to show back to the person.
fn kept_text(bytes: &[u8]) -> Vec<(String, String)> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
    fields
        .into_iter()
        .filter(|(k, v)| ["title", "body", "tags", "summary"].contains(&k.as_str()) && !v.trim().is_empty())
        .collect()
}

/// Maps a failure to read the body: too large → 413, anything else → 400.
fn body_error(e: actix_web::Error) -> Error {
    match e.as_error::<actix_web::error::PayloadError>() {
        Some(actix_web::error::PayloadError::Overflow) => Error::PayloadTooLarge,
        _ => Error::BadRequest(format!("The request body could not be read: {e}.")),
    }
}

/// The body of a form whose only field is its CSRF token (log out, admin buttons).
#[derive(Debug, Deserialize, Default)]
pub struct NoFields {}

/// The user a bearer token names. Every API mutation takes this extractor.
pub struct ApiUser(pub User);

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state(&req)?;
            let header = req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|h| h.to_str().ok());
            let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim).map(String::from) else {
                return Err(ApiError(Error::Unauthenticated));
            };
            match state.db(move |c| accounts::tokens::lookup(c, &token)).await? {
                Some(user) => Ok(ApiUser(user)),
                None => Err(ApiError(Error::Unauthenticated)),
            }
        })
    }
}

/// An optional bearer token, for reads that mark the caller's own votes.
pub struct MaybeApiUser(pub Option<User>);

impl FromRequest for MaybeApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let has_auth = req.headers().contains_key(actix_web::http::header::AUTHORIZATION);
        let fut = ApiUser::from_request(req, payload);
        Box::pin(async move {
            if has_auth {
                Ok(MaybeApiUser(Some(fut.await?.0)))
            } else {
                Ok(MaybeApiUser(None))
            }
        })
    }
}

/// A JSON body parsed with the path of any bad field named in the error. The handler calls
/// [`ApiJson::get`] after authentication, so a request without a token hears 401 first.
pub struct ApiJson<T>(Result<T, Error>);

impl<T> ApiJson<T> {
    pub fn get(self) -> Result<T, Error> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = req.content_type() == "application/json";
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move { Ok(ApiJson(parse_json(json, body.await))) })
    }
}

fn parse_json<T: DeserializeOwned>(json: bool, body: Result<web::Bytes, actix_web::Error>) -> Result<T, Error> {
    if !json {
        return Err(Error::BadRequest("Send the body as JSON with Content-Type: application/json.".into()));
    }
    let bytes = body.map_err(body_error)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() { "body".to_string() } else { path };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("The body is not valid JSON: {inner}.")
        } else {
            format!("Field `{field}`: {inner}.")
        };
        Error::Malformed(crate::domain::FieldErrors(vec![crate::domain::FieldError { field, message }]))
    })
}
