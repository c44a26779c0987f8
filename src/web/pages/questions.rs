//! The question page and every action on a thread: ask, answer, comment, edit, vote, accept.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::domain::{CommentBody, FieldErrors, PostBody, QuestionTitle, TagName};
use crate::error::Error;
use crate::qa::posts::{self, NewQuestion, PostEdit};
use crate::qa::thread::{self, ThreadView};
use crate::qa::{question_path, votes};
use crate::web::auth::{CsrfForm, Viewer};
use crate::web::error::PageError;
use crate::web::{client_ip, templates, AppState};

/// What was typed into a form that failed, so it comes back intact with its messages.
#[derive(Debug, Default, serde::Serialize)]
pub struct Draft {
    /// Which form: "answer" or `comment-{post id}`.
    pub form: String,
    pub body: String,
    pub errors: std::collections::BTreeMap<String, String>,
}

/// schema.org QAPage JSON-LD, safe to place inside a `<script>` element.
fn json_ld(state: &AppState, t: &ThreadView) -> String {
    let person = |u: &crate::qa::UserRef| json!({"@type": "Person", "name": u.username, "url": state.url(&u.path)});
    let answer = |a: &crate::qa::thread::PostView| {
        json!({
            "@type": "Answer",
            "text": crate::markdown::plain_excerpt(&a.body_markdown, 2000),
            "url": state.url(&a.path),
            "upvoteCount": a.score,
            "dateCreated": a.created.iso,
            "author": person(&a.author),
        })
    };
    let q = &t.question;
    let mut main = json!({
        "@type": "Question",
        "name": q.title,
        "text": crate::markdown::plain_excerpt(&q.body_markdown, 2000),
        "answerCount": t.answers.len(),
        "upvoteCount": q.score,
        "dateCreated": q.created.iso,
        "author": person(&q.author),
        "url": state.url(&q.path),
    });
    if let Some(acc) = t.answers.iter().find(|a| a.is_accepted) {
        main["acceptedAnswer"] = answer(acc);
    }
    let suggested: Vec<_> = t.answers.iter().filter(|a| !a.is_accepted).map(answer).collect();
    if !suggested.is_empty() {
        main["suggestedAnswer"] = json!(suggested);
    }
    let doc = json!({"@context": "https://schema.org", "@type": "QAPage", "mainEntity": main});
    // Escaped so that nothing in it can end or confuse the <script> element holding it.
    doc.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn render_thread(
    state: &AppState,
    viewer: &Viewer,
    t: &ThreadView,
    draft: Option<Draft>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    templates::page(state, viewer, "question.html", thread_context(state, viewer, t, draft), status)
}

fn thread_context(state: &AppState, viewer: &Viewer, t: &ThreadView, draft: Option<Draft>) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("thread", t);
    ctx.insert("canonical", &state.url(&t.question.path));
    ctx.insert("description", &crate::markdown::plain_excerpt(&t.question.body_markdown, 160));
    ctx.insert("json_ld", &json_ld(state, t));
    ctx.insert("draft", &draft.unwrap_or_default());
    ctx.insert("login_url", &format!("/login?next={}", templates::url_encode(&t.question.path)));
    ctx.insert("is_asker", &(viewer.user_id() == Some(t.question.author.id)));
    let privileges = &state.settings.policy.privileges;
    let can = |p| viewer.user().is_some_and(|u| privileges.has(u, p));
    use crate::moderation::{CloseReason, FlagReason};
    use crate::reputation::privileges::Privilege;
    ctx.insert("is_moderator", &can(Privilege::Superuser));
    ctx.insert("can_close", &can(Privilege::VoteToClose));
    ctx.insert("flag_reasons", &FlagReason::ALL.iter().map(|r| (r.as_str(), r.label())).collect::<Vec<_>>());
    ctx.insert("close_reasons", &CloseReason::ALL.iter().map(|r| (r.as_str(), r.label())).collect::<Vec<_>>());
    ctx
}

async fn load_thread(state: &AppState, id: i64, viewer: Option<i64>) -> Result<ThreadView, Error> {
    let policy = state.settings.policy.clone();
    state
        .db(move |c| {
            let reader = crate::moderation::reader(c, &policy, viewer)?;
            thread::load(c, id, reader)
        })
        .await?
        .ok_or(Error::NotFound("question"))
}

pub async fn show(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, slug) = path.into_inner();
    if viewer.session.is_none() {
        return show_anonymous(&state, &viewer, &req, id, &slug).await;
    }
    let t = load_thread(&state, id, viewer.user_id()).await?;
    if slug != t.slug {
        return Ok(moved(&question_path(id, &t.slug)));
    }
    state.views.record(client_ip(&req), id);
    render_thread(&state, &viewer, &t, None, StatusCode::OK)
}

/// Anonymous visitors (most traffic, and every search engine) get the cached page when the
/// thread has not changed.
async fn show_anonymous(
    state: &AppState,
    viewer: &Viewer,
    req: &HttpRequest,
    id: i64,
    slug: &str,
) -> Result<HttpResponse, PageError> {
    if let Some(html) = state.pages.thread_fresh(id, slug) {
        state.views.record(client_ip(req), id);
        return Ok(templates::html_response(state, viewer, StatusCode::OK, html));
    }
    let (version, canonical_slug) =
        state.db(move |c| posts::question_version(c, id)).await?.ok_or(Error::NotFound("question"))?;
    if slug != canonical_slug {
        return Ok(moved(&question_path(id, &canonical_slug)));
    }
    state.views.record(client_ip(req), id);
    if let Some(html) = state.pages.thread_at(id, version) {
        return Ok(templates::html_response(state, viewer, StatusCode::OK, html));
    }
    let t = load_thread(state, id, None).await?;
    let ctx = thread_context(state, viewer, &t, None);
    let html = web::Bytes::from(templates::render(state, viewer, "question.html", ctx)?);
    state.pages.put_thread(id, t.version, &t.slug, t.answers.iter().map(|a| a.id).collect(), html.clone());
    Ok(templates::html_response(state, viewer, StatusCode::OK, html))
}

/// `/questions/{id}` without a slug → 301 to the canonical URL.
pub async fn show_without_slug(state: web::Data<AppState>, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let p = state.db(move |c| posts::find_question(c, id)).await?;
    Ok(moved(&question_path(p.id, &p.slug)))
}

fn moved(location: &str) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, location)).finish()
}

#[derive(Debug, Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct AskForm {
    pub title: String,
    pub body: String,
    pub tags: String,
    pub summary: String,
}

fn parse_question(f: &AskForm) -> Result<NewQuestion, FieldErrors> {
    let mut e = FieldErrors::new();
    let title = e.check("title", QuestionTitle::parse(&f.title));
    let body = e.check("body", PostBody::parse(&f.body));
    let tags = e.check("tags", TagName::parse_list(&f.tags));
    match (title, body, tags) {
        (Some(title), Some(body), Some(tags)) if e.is_empty() => Ok(NewQuestion { title, body, tags }),
        _ => Err(e),
    }
}

fn ask_page(
    state: &AppState,
    viewer: &Viewer,
    form: &AskForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut ctx = tera::Context::new();
    ctx.insert("form", form);
    ctx.insert("errors", &errors.by_field());
    templates::page(state, viewer, "ask.html", ctx, status)
}

pub async fn ask_form(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.require()?;
    ask_page(&state, &viewer, &AskForm::default(), &FieldErrors::new(), StatusCode::OK)
}

pub async fn ask(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<AskForm>,
) -> Result<HttpResponse, PageError> {
    let Some(user) = viewer.user().cloned() else {
        let mut e = FieldErrors::new();
        e.add("form", "You are not logged in, so this was not posted. Your text is kept here and in this browser: log in, then post it again.");
        return ask_page(&state, &viewer, &form, &e, StatusCode::UNAUTHORIZED);
    };
    let q = match parse_question(&form) {
        Ok(q) => q,
        Err(e) => return ask_page(&state, &viewer, &form, &e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    if let Err(e) = state.limits.post(user.id) {
        let mut fe = FieldErrors::new();
        fe.add("form", crate::web::error::classify(&e).2);
        return ask_page(&state, &viewer, &form, &fe, StatusCode::TOO_MANY_REQUESTS);
    }
    let policy = state.settings.policy.clone();
    let post = state.db(move |c| posts::ask(c, &policy, &user, &q)).await?;
    state.pages.changed(post.id);
    Ok(templates::see_other(&question_path(post.id, &post.slug)))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct BodyForm {
    pub body: String,
}

/// Re-renders the thread with a failed answer or comment and its message.
async fn thread_with_draft(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    draft: Draft,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let t = load_thread(state, id, viewer.user_id()).await?;
    render_thread(state, viewer, &t, Some(draft), status)
}

fn draft(form: &str, body: String, message: String) -> Draft {
    let mut errors = std::collections::BTreeMap::new();
    errors.insert("body".to_string(), message);
    Draft { form: form.into(), body, errors }
}

/// Checks the viewer may post now; otherwise the message to show beside the draft.
fn posting_allowed(state: &AppState, viewer: &Viewer) -> Result<crate::accounts::User, (StatusCode, String)> {
    let Some(user) = viewer.user().cloned() else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "You are not logged in, so this was not posted. Your text is kept here and in this browser: log in, then post it again.".into(),
        ));
    };
    if let Err(e) = state.limits.post(user.id) {
        let (status, _, message) = crate::web::error::classify(&e);
        return Err((status, message));
    }
    Ok(user)
}

pub async fn answer(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<BodyForm>,
) -> Result<HttpResponse, PageError> {
    let qid = path.into_inner();
    let body = match PostBody::parse(&form.body) {
        Ok(b) => b,
        Err(m) => {
            return thread_with_draft(
                &state,
                &viewer,
                qid,
                draft("answer", form.body, m),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let user = match posting_allowed(&state, &viewer) {
        Ok(u) => u,
        Err((status, m)) => {
            return thread_with_draft(&state, &viewer, qid, draft("answer", form.body, m), status).await
        }
    };
    let a = state.db(move |c| posts::answer(c, &user, qid, &body)).await?;
    state.pages.changed(qid);
    let q = state.db(move |c| posts::find_question(c, qid)).await?;
    Ok(templates::see_other(&format!("{}#answer-{}", question_path(q.id, &q.slug), a.id)))
}

pub async fn comment(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<BodyForm>,
) -> Result<HttpResponse, PageError> {
    let post_id = path.into_inner();
    let post = state.db(move |c| posts::find(c, post_id)).await?;
    let qid = post.thread_id();
    let form_name = format!("comment-{post_id}");
    let body = match CommentBody::parse(&form.body) {
        Ok(b) => b,
        Err(m) => {
            return thread_with_draft(
                &state,
                &viewer,
                qid,
                draft(&form_name, form.body, m),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let user = match posting_allowed(&state, &viewer) {
        Ok(u) => u,
        Err((status, m)) => {
            return thread_with_draft(&state, &viewer, qid, draft(&form_name, form.body, m), status).await
        }
    };
    let policy = state.settings.policy.clone();
    let c = state.db(move |c| posts::comment(c, &policy, &user, post_id, &body)).await?;
    state.pages.changed(qid);
    let q = state.db(move |c| posts::find_question(c, qid)).await?;
    Ok(templates::see_other(&format!("{}#comment-{}", question_path(q.id, &q.slug), c.id)))
}

fn edit_page(
    state: &AppState,
    viewer: &Viewer,
    post: &EditTarget,
    form: &AskForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut ctx = tera::Context::new();
    ctx.insert("post", post);
    ctx.insert("form", form);
    ctx.insert("errors", &errors.by_field());
    templates::page(state, viewer, "edit.html", ctx, status)
}

/// What the edit page needs to know about the post.
#[derive(serde::Serialize)]
pub struct EditTarget {
    pub id: i64,
    pub is_question: bool,
    pub path: String,
}

async fn edit_target(state: &AppState, viewer: &Viewer, id: i64) -> Result<(EditTarget, AskForm), PageError> {
    // Anyone logged in may open the form: others' edits become suggestions without the privilege.
    viewer.require()?;
    let post = state.db(move |c| posts::find(c, id)).await?;
    let qid = post.thread_id();
    let (q, tags) = state
        .db(move |c| {
            Ok((posts::find_question(c, qid)?, crate::qa::tags::names_for(c, &[qid])?.remove(&qid).unwrap_or_default()))
        })
        .await?;
    let path = if post.is_question() {
        question_path(q.id, &q.slug)
    } else {
        format!("{}#answer-{}", question_path(q.id, &q.slug), post.id)
    };
    let form = AskForm {
        title: post.title.clone().unwrap_or_default(),
        body: post.body_md.clone(),
        tags: if post.is_question() { tags.join(" ") } else { String::new() },
        summary: String::new(),
    };
    Ok((EditTarget { id: post.id, is_question: post.is_question(), path }, form))
}

pub async fn edit_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let (target, form) = edit_target(&state, &viewer, path.into_inner()).await?;
    edit_page(&state, &viewer, &target, &form, &FieldErrors::new(), StatusCode::OK)
}

pub async fn edit(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<AskForm>,
) -> Result<HttpResponse, PageError> {
    let (target, _) = edit_target(&state, &viewer, path.into_inner()).await?;
    let mut e = FieldErrors::new();
    let (title, tags) = if target.is_question {
        (e.check("title", QuestionTitle::parse(&form.title)), e.check("tags", TagName::parse_list(&form.tags)))
    } else {
        (None, None)
    };
    let body = e.check("body", PostBody::parse(&form.body));
    let (Some(body), true) = (body, e.is_empty()) else {
        return edit_page(&state, &viewer, &target, &form, &e, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let user = viewer.require()?.clone();
    if let Err(err) = state.limits.post(user.id) {
        e.add("form", crate::web::error::classify(&err).2);
        return edit_page(&state, &viewer, &target, &form, &e, StatusCode::TOO_MANY_REQUESTS);
    }
    let change = PostEdit { title, body, tags, summary: form.summary.clone() };
    let id = target.id;
    let policy = state.settings.policy.clone();
    let outcome = state.db(move |c| crate::review::edit_or_suggest(c, &policy, &user, id, &change)).await?;
    if let crate::review::EditOutcome::Suggested { .. } = outcome {
        let mut ctx = tera::Context::new();
        ctx.insert("heading", "Edit suggested");
        ctx.insert(
            "message",
            "Thank you: your edit is waiting for review. Two reviewers, or the author, decide; once approved it appears as a new revision.",
        );
        return templates::page(&state, &viewer, "notice.html", ctx, StatusCode::ACCEPTED);
    }
    state.pages.changed(id);
    let (target, _) = edit_target(&state, &viewer, id).await?;
    Ok(templates::see_other(&target.path))
}

pub async fn revisions(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let (post, q, revs) = state
        .db(move |c| {
            let post = posts::find(c, id)?;
            let q = posts::find_question(c, post.thread_id())?;
            Ok((post, q, posts::revisions(c, id)?))
        })
        .await?;
    let mut ctx = tera::Context::new();
    ctx.insert("revisions", &revs);
    ctx.insert("question_title", &q.title.unwrap_or_default());
    ctx.insert("post_kind", &post.kind);
    ctx.insert(
        "post_path",
        &if post.is_question() {
            question_path(q.id, &q.slug)
        } else {
            format!("{}#answer-{}", question_path(q.id, &q.slug), post.id)
        },
    );
    templates::ok(&state, &viewer, "revisions.html", ctx)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct VoteForm {
    pub value: String,
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

pub async fn vote(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<VoteForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    let post_id = path.into_inner();
    let value: i32 =
        form.value.trim().parse().map_err(|_| Error::field("value", "A vote is 1 (up), -1 (down) or 0 (retract)."))?;
    let policy = state.settings.policy.clone();
    let outcome = state.db(move |c| votes::cast(c, &policy, &user, post_id, value)).await?;
    state.pages.changed(post_id);
    if wants_json(&req) {
        return Ok(HttpResponse::Ok().json(outcome));
    }
    let post = state.db(move |c| posts::find(c, post_id)).await?;
    let qid = post.thread_id();
    let q = state.db(move |c| posts::find_question(c, qid)).await?;
    let anchor = if post.is_question() { "question".to_string() } else { format!("answer-{}", post.id) };
    Ok(templates::see_other(&format!("{}#{anchor}", question_path(q.id, &q.slug))))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    pub accept: String,
}

pub async fn accept(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    let answer_id = path.into_inner();
    let accept = form.accept != "0";
    let policy = state.settings.policy.clone();
    let q = state.db(move |c| posts::accept(c, &policy, &user, answer_id, accept)).await?;
    state.pages.changed(q.id);
    Ok(templates::see_other(&format!("{}#answer-{answer_id}", question_path(q.id, &q.slug))))
}
