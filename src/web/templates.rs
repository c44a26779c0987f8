//! Tera templates, compiled into the binary, and the page renderer that adds what every
//! page needs (site name, viewer, CSRF token, asset URLs).

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use super::auth::Viewer;
use super::error::PageError;
use super::AppState;
use crate::error::Error;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("question.html", include_str!("../../templates/question.html")),
    ("post_votes.html", include_str!("../../templates/post_votes.html")),
    ("post_comments.html", include_str!("../../templates/post_comments.html")),
    ("moderation_tools.html", include_str!("../../templates/moderation_tools.html")),
    ("moderation_log.html", include_str!("../../templates/moderation_log.html")),
    ("review.html", include_str!("../../templates/review.html")),
    ("ask.html", include_str!("../../templates/ask.html")),
    ("edit.html", include_str!("../../templates/edit.html")),
    ("revisions.html", include_str!("../../templates/revisions.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("signup.html", include_str!("../../templates/signup.html")),
    ("profile.html", include_str!("../../templates/profile.html")),
    ("tags.html", include_str!("../../templates/tags.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("notice.html", include_str!("../../templates/notice.html")),
    ("admin_jobs.html", include_str!("../../templates/admin_jobs.html")),
    ("mail_verify.txt", include_str!("../../templates/mail_verify.txt")),
    ("mail_verify.html", include_str!("../../templates/mail_verify.html")),
    ("mail_reset.txt", include_str!("../../templates/mail_reset.txt")),
    ("mail_reset.html", include_str!("../../templates/mail_reset.html")),
    ("mail_notification.txt", include_str!("../../templates/mail_notification.txt")),
    ("mail_notification.html", include_str!("../../templates/mail_notification.html")),
    ("mail_digest.txt", include_str!("../../templates/mail_digest.txt")),
    ("mail_digest.html", include_str!("../../templates/mail_digest.html")),
    ("notifications.html", include_str!("../../templates/notifications.html")),
    ("notification_settings.html", include_str!("../../templates/notification_settings.html")),
    ("unsubscribe.html", include_str!("../../templates/unsubscribe.html")),
    ("forgot.html", include_str!("../../templates/forgot.html")),
    ("reset.html", include_str!("../../templates/reset.html")),
    ("sitemap.xml", include_str!("../../templates/sitemap.xml")),
    ("feed.xml", include_str!("../../templates/feed.xml")),
];

pub fn build() -> anyhow::Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    tera.set_escape_fn(escape);
    tera.register_filter("segment", |v: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
        let s = v.as_str().ok_or_else(|| tera::Error::msg("segment filter needs a string"))?;
        Ok(tera::Value::String(crate::domain::path_segment(s)))
    });
    Ok(tera)
}

fn base_context(state: &AppState, viewer: Option<&Viewer>) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("viewer", &None::<()>);
    ctx.insert("description", &None::<()>);
    ctx.insert("canonical", &None::<()>);
    ctx.insert("suspension", &None::<()>);
    ctx.insert("site_name", &state.settings.site_name);
    ctx.insert("base_url", &state.base_url);
    ctx.insert("assets", &state.assets.urls());
    if let Some(v) = viewer {
        ctx.insert("csrf_token", &v.csrf_token);
        ctx.insert("viewer", &v.user().map(crate::qa::UserRef::from));
        ctx.insert("unread", &v.unread);
        // A suspended person sees why, and until when, on every page.
        if let Some(u) = v.user().filter(|u| crate::moderation::ensure_can_write(u).is_err()) {
            let until = u.suspended_until.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
            ctx.insert("suspension", &(until, u.suspension_reason.clone().unwrap_or_default()));
        }
    }
    ctx
}

/// Renders a page's HTML for a viewer.
pub fn render(state: &AppState, viewer: &Viewer, template: &str, extra: tera::Context) -> Result<String, Error> {
    let mut ctx = base_context(state, Some(viewer));
    ctx.extend(extra);
    state.tera.render(template, &ctx).map_err(|e| Error::Internal(anyhow::anyhow!("template {template}: {e:?}")))
}

/// Wraps rendered HTML in a response, with the viewer's cookies and cache rules.
pub fn html_response(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    html: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8");
    viewer.apply(state, &mut res);
    if viewer.user().is_some() {
        res.insert_header((header::CACHE_CONTROL, "private, no-store"));
    }
    res.body(html)
}

/// Renders a page for a viewer with the given status.
pub fn page(
    state: &AppState,
    viewer: &Viewer,
    template: &str,
    extra: tera::Context,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let html = render(state, viewer, template, extra)?;
    Ok(html_response(state, viewer, status, html))
}

/// Renders a page with status 200.
pub fn ok(state: &AppState, viewer: &Viewer, template: &str, extra: tera::Context) -> Result<HttpResponse, PageError> {
    page(state, viewer, template, extra, StatusCode::OK)
}

/// Renders an XML document (sitemap, feeds).
pub fn xml(
    state: &AppState,
    template: &str,
    extra: tera::Context,
    content_type: &str,
) -> Result<HttpResponse, PageError> {
    let mut ctx = base_context(state, None);
    ctx.extend(extra);
    let body = state
        .tera
        .render(template, &ctx)
        .map_err(|e| Error::Internal(anyhow::anyhow!("template {template}: {e:?}")))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body))
}

pub fn error_page(
    state: &AppState,
    status: StatusCode,
    message: &str,
    kept: &[(String, String)],
) -> Result<String, tera::Error> {
    let mut ctx = base_context(state, None);
    ctx.insert("kept", kept);
    ctx.insert("status", &status.as_u16());
    ctx.insert("reason", status.canonical_reason().unwrap_or("Error"));
    ctx.insert("message", message);
    state.tera.render("error.html", &ctx)
}

/// Escapes text for HTML and XML content and quoted attributes. Unlike Tera's default it
/// leaves `/` alone, so URLs in sitemaps and feeds stay readable.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|v| v.trim_start_matches('=').to_string()).unwrap_or_default()
}

/// A redirect after a successful form (POST → redirect → GET).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}
