//! Sign-up, log-in, log-out and public profiles.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::accounts::verification::Purpose;
use crate::accounts::{self, passwords, users};
use crate::domain::{Email, FieldErrors, Password, Role, Username};
use crate::error::Error;
use crate::qa::listing;
use crate::web::auth::{self, CsrfForm, NoFields, Viewer};
use crate::web::error::PageError;
use crate::web::{client_ip, templates, AppState};

#[derive(Debug, Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct LoginForm {
    pub login: String,
    #[serde(skip_serializing)]
    pub password: String,
    pub next: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// Only same-site paths are followed after log-in: a single leading `/`, then no second `/`
/// or `\\`, and no control characters or spaces (browsers drop tabs and newlines, which would
/// turn `/\t/evil.example` into `//evil.example`).
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !matches!(next.as_bytes().get(1), Some(b'/') | Some(b'\\'))
        && !next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && next.len() <= 2000;
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn login_page(
    state: &AppState,
    viewer: &Viewer,
    form: &LoginForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut ctx = tera::Context::new();
    ctx.insert("form", form);
    ctx.insert("error", &error);
    templates::page(state, viewer, "login.html", ctx, status)
}

pub async fn login_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let form = LoginForm { next: q.next.clone().unwrap_or_default(), ..Default::default() };
    login_page(&state, &viewer, &form, None, StatusCode::OK)
}

/// Checks a log-in and password off the async threads; the same answer for an unknown user
/// and a wrong password.
pub async fn authenticate(state: &AppState, login: String, password: String) -> Result<accounts::User, Error> {
    let user = state.db(move |c| users::find_by_login(c, &login)).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = web::block(move || passwords::verify(&password, hash.as_deref()))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("password check failed: {e}")))?;
    match (ok, user) {
        (true, Some(u)) => Ok(u),
        _ => Err(Error::forbidden("bad_credentials", "Wrong username, e-mail or password.")),
    }
}

/// Starts a session: new session cookie and a new CSRF cookie, then redirect.
async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user_id: i64,
    next: &str,
) -> Result<HttpResponse, PageError> {
    let ua = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    // A session that was active before log-in is ended so its id cannot be reused.
    if let Some(old) = req.cookie(auth::SESSION_COOKIE).map(|c| crate::accounts::hash_secret(c.value())) {
        state.db(move |c| accounts::sessions::delete(c, &old)).await?;
    }
    let token = state.db(move |c| accounts::sessions::create(c, user_id, &ua)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", safe_next(next)))
        .cookie(auth::session_cookie(state, token))
        .cookie(auth::csrf_cookie(state, accounts::random_token()))
        .finish())
}

pub async fn login(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, PageError> {
    if let Err(e) = state.limits.login(client_ip(&req)) {
        let (status, _, message) = crate::web::error::classify(&e);
        return login_page(&state, &viewer, &form, Some(message), status);
    }
    match authenticate(&state, form.login.clone(), form.password.clone()).await {
        Ok(user) => start_session(&state, &req, user.id, &form.next).await,
        Err(Error::Forbidden { message, .. }) => {
            login_page(&state, &viewer, &form, Some(message), StatusCode::UNAUTHORIZED)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct SignupForm {
    pub username: String,
    pub email: String,
    #[serde(skip_serializing)]
    pub password: String,
}

/// Validates a sign-up; the error lists every field that is wrong.
pub fn parse_signup(username: &str, email: &str, password: &str) -> Result<(Username, Email, Password), FieldErrors> {
    let mut e = FieldErrors::new();
    let u = e.check("username", Username::parse(username));
    let m = e.check("email", Email::parse(email));
    let p = e.check("password", Password::parse(password, username));
    match (u, m, p) {
        (Some(u), Some(m), Some(p)) => Ok((u, m, p)),
        _ => Err(e),
    }
}

/// Argon2id off the async threads.
async fn hash_password(password: Password) -> Result<String, Error> {
    web::block(move || passwords::hash(password.as_str()))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing failed: {e}")))?
        .map_err(Error::Internal)
}

/// Creates an account (hashing off the async threads) and, in the same transaction, queues the
/// message that asks the person to confirm their address.
pub async fn register(
    state: &web::Data<AppState>,
    username: Username,
    email: Email,
    password: Password,
    role: Role,
) -> Result<accounts::User, Error> {
    let hash = hash_password(password).await?;
    let st = state.clone();
    state
        .db(move |c| {
            crate::db::write_transaction(c, |c| {
                let user = users::create(c, &username, &email, &hash, role)?;
                let token = accounts::verification::create_token(c, &user, Purpose::VerifyEmail)?;
                let mail =
                    link_email(&st, &user, "mail_verify", "Confirm your address", &format!("/verify-email/{token}"))?;
                accounts::verification::queue_message(c, &mail)?;
                Ok(user)
            })
        })
        .await
}

/// A message carrying one link, from the `{template}.txt` and `{template}.html` templates.
fn link_email(
    state: &AppState,
    user: &accounts::User,
    template: &str,
    subject: &str,
    path: &str,
) -> Result<crate::mail::Email, Error> {
    let mut ctx = tera::Context::new();
    ctx.insert("username", &user.username);
    ctx.insert("email", &user.email);
    ctx.insert("site_name", &state.settings.site_name);
    ctx.insert("link", &state.url(path));
    let render = |name: String| {
        state.tera.render(&name, &ctx).map_err(|e| Error::Internal(anyhow::anyhow!("template {name}: {e:?}")))
    };
    Ok(crate::mail::Email {
        to: user.email.clone(),
        subject: format!("{subject} for {}", state.settings.site_name),
        text: render(format!("{template}.txt"))?,
        html: render(format!("{template}.html"))?,
        unsubscribe: None,
    })
}

/// `/verify-email/{token}`: confirms the address; a bad, used or expired link gets one clear answer.
pub async fn verify_email(
    state: web::Data<AppState>,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    state.db(move |c| accounts::verification::verify(c, &token)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("heading", "Address confirmed");
    ctx.insert("message", "Thank you: your e-mail address is confirmed, and mail from this site can reach you.");
    templates::ok(&state, &viewer, "notice.html", ctx)
}

fn signup_page(
    state: &AppState,
    viewer: &Viewer,
    form: &SignupForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut ctx = tera::Context::new();
    ctx.insert("form", form);
    ctx.insert("errors", &errors.by_field());
    templates::page(state, viewer, "signup.html", ctx, status)
}

pub async fn signup_form(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    signup_page(&state, &viewer, &SignupForm::default(), &FieldErrors::new(), StatusCode::OK)
}

pub async fn signup(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<HttpResponse, PageError> {
    let (u, m, p) = match parse_signup(&form.username, &form.email, &form.password) {
        Ok(v) => v,
        Err(e) => return signup_page(&state, &viewer, &form, &e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    if let Err(e) = state.limits.signup(client_ip(&req)) {
        let (status, _, message) = crate::web::error::classify(&e);
        let mut fe = FieldErrors::new();
        fe.add("form", message);
        return signup_page(&state, &viewer, &form, &fe, status);
    }
    match register(&state, u, m, p, Role::User).await {
        Ok(user) => start_session(&state, &req, user.id, "/").await,
        Err(Error::Validation(e)) => signup_page(&state, &viewer, &form, &e, StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    if let Some(s) = viewer.session.clone() {
        state.db(move |c| accounts::sessions::delete(c, &s.id_hash)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/"))
        .cookie(auth::removal_cookie(auth::SESSION_COOKIE))
        .finish())
}

pub async fn logout_everywhere(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    state.db(move |c| accounts::sessions::delete_all_for_user(c, user.id)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/login"))
        .cookie(auth::removal_cookie(auth::SESSION_COOKIE))
        .finish())
}

pub async fn profile(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, name) = path.into_inner();
    let (user, questions, answered, nq, na, (events, n_events), days, badges) = state
        .db(move |c| {
            let u = users::find(c, id)?;
            Ok((
                u,
                listing::by_author(c, id, 10)?,
                listing::answered_by(c, id, 10)?,
                listing::count_by_author(c, id, crate::qa::QUESTION)?,
                listing::count_by_author(c, id, crate::qa::ANSWER)?,
                crate::reputation::history(c, id, 1, 30)?,
                crate::reputation::daily_totals(c, id, 90)?,
                crate::reputation::badges::of_user(c, id)?,
            ))
        })
        .await?;
    if user.username != name {
        return Ok(HttpResponse::MovedPermanently().insert_header(("Location", user.path())).finish());
    }
    let mut ctx = tera::Context::new();
    ctx.insert("profile", &crate::qa::UserRef::from(&user));
    ctx.insert("about", &user.about);
    ctx.insert("member_since", &crate::qa::Time::from(user.created_at));
    ctx.insert("last_seen", &crate::qa::Time::from(user.last_seen_at));
    ctx.insert("questions", &questions);
    ctx.insert("answered", &answered);
    ctx.insert("question_count", &nq);
    ctx.insert("answer_count", &na);
    ctx.insert("canonical", &state.url(&user.path()));
    ctx.insert("is_self", &(viewer.user_id() == Some(user.id)));
    let privileges = &state.settings.policy.privileges;
    let (held, next) = privileges.held(&user);
    ctx.insert("privileges", &held.iter().map(|p| p.label()).collect::<Vec<_>>());
    ctx.insert("next_privilege", &next.map(|(p, n)| (p.label(), n, n - user.reputation)));
    ctx.insert("rep_events", &events);
    ctx.insert("rep_event_count", &n_events);
    ctx.insert("rep_chart", &reputation_chart(&days));
    ctx.insert("badges", &badges);
    ctx.insert("can_grant", &(viewer.user().is_some_and(|v| v.role() == Role::Admin) && !user.is_staff()));
    templates::ok(&state, &viewer, "profile.html", ctx)
}

/// The reputation chart: an SVG polyline of the daily totals, drawn on the server (no script).
#[derive(serde::Serialize)]
struct Chart {
    points: String,
    max: i64,
    first: String,
    last: String,
}

fn reputation_chart(days: &[(chrono::NaiveDate, i64)]) -> Option<Chart> {
    let (first, last) = (days.first()?, days.last()?);
    let max = days.iter().map(|(_, t)| *t).max().unwrap_or(1).max(1);
    let n = (days.len().max(2) - 1) as f64;
    let points = days
        .iter()
        .enumerate()
        .map(|(i, (_, t))| format!("{:.1},{:.1}", i as f64 * 300.0 / n, 100.0 - (*t as f64) * 95.0 / max as f64))
        .collect::<Vec<_>>()
        .join(" ");
    Some(Chart { points, max, first: first.0.format("%b %-d").to_string(), last: last.0.format("%b %-d").to_string() })
}

#[derive(Deserialize)]
pub struct RoleForm {
    pub role: String,
}

/// `POST /users/{id}/role`: admins grant or revoke the superuser role.
pub async fn set_role(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let admin = viewer.require()?;
    if admin.role() != Role::Admin {
        return Err(Error::forbidden("admins_only", "Only admins can grant or revoke the superuser role.").into());
    }
    let role = match form.role.as_str() {
        "superuser" => Role::Superuser,
        "user" => Role::User,
        _ => return Err(Error::field("role", "The role to set is superuser or user.").into()),
    };
    let id = path.into_inner();
    let user = state.db(move |c| users::set_role(c, id, role)).await?;
    Ok(templates::see_other(&user.path()))
}

pub async fn profile_without_name(state: web::Data<AppState>, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let user = state.db(move |c| users::find(c, id)).await?;
    Ok(HttpResponse::MovedPermanently().insert_header(("Location", user.path())).finish())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    pub email: String,
}

pub async fn forgot_form(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    let mut ctx = tera::Context::new();
    ctx.insert("email", "");
    ctx.insert("sent", &false);
    ctx.insert("error", &None::<String>);
    templates::ok(&state, &viewer, "forgot.html", ctx)
}

/// Always the same answer whether or not the address has an account. Only confirmed addresses
/// get mail (an unconfirmed one only ever gets the confirmation message).
pub async fn forgot(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<HttpResponse, PageError> {
    let mut ctx = tera::Context::new();
    ctx.insert("email", &form.email);
    if let Err(e) = state.limits.login(client_ip(&req)) {
        let (status, _, message) = crate::web::error::classify(&e);
        ctx.insert("sent", &false);
        ctx.insert("error", &Some(message));
        return templates::page(&state, &viewer, "forgot.html", ctx, status);
    }
    let login = form.email.trim().to_string();
    let st = state.clone();
    state
        .db(move |c| {
            let Some(user) =
                users::find_by_login(c, &login)?.filter(|u| login.contains('@') && u.email_verified_at.is_some())
            else {
                return Ok(());
            };
            crate::db::write_transaction(c, |c| {
                let token = accounts::verification::create_token(c, &user, Purpose::ResetPassword)?;
                let mail =
                    link_email(&st, &user, "mail_reset", "Reset your password", &format!("/password/reset/{token}"))?;
                accounts::verification::queue_message(c, &mail)
            })
        })
        .await?;
    ctx.insert("sent", &true);
    ctx.insert("error", &None::<String>);
    templates::ok(&state, &viewer, "forgot.html", ctx)
}

fn reset_page(
    state: &AppState,
    viewer: &Viewer,
    token: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut ctx = tera::Context::new();
    ctx.insert("token", token);
    ctx.insert("error", &error);
    templates::page(state, viewer, "reset.html", ctx, status)
}

pub async fn reset_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let t = token.clone();
    state.db(move |c| accounts::verification::reset_link_owner(c, &t)).await?;
    reset_page(&state, &viewer, &token, None, StatusCode::OK)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    pub password: String,
}

pub async fn reset(
    state: web::Data<AppState>,
    viewer: Viewer,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let t = token.clone();
    // The owner's username is needed for the "not your username" rule.
    let owner = state.db(move |c| accounts::verification::reset_link_owner(c, &t)).await?;
    let password = match Password::parse(&form.password, &owner.username) {
        Ok(p) => p,
        Err(m) => return reset_page(&state, &viewer, &token, Some(m), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let hash = hash_password(password).await?;
    state.db(move |c| accounts::verification::reset_password(c, &token, &hash)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("heading", "Password changed");
    ctx.insert("message", "Your new password is set, and every device that was logged in has been logged out. Log in with the new password.");
    templates::page(&state, &viewer, "notice.html", ctx, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_paths_are_followed() {
        assert_eq!(safe_next("/questions/1/x?tab=a"), "/questions/1/x?tab=a");
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "/ /evil",
            "",
        ] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
    }
}
