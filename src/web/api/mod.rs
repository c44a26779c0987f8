//! The JSON API under `/api/v1`: bearer tokens, problem+json errors, and an OpenAPI document
//! generated from the handlers' annotations.

pub mod moderation;
pub mod notifications;
pub mod questions;
pub mod types;
pub mod users;

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Nave API", description = "Questions, answers, comments, votes and users of a Nave hub."),
    paths(
        users::create_user,
        users::create_token,
        users::get_user,
        users::reputation_history,
        users::user_badges,
        questions::list_questions,
        questions::create_question,
        questions::get_question,
        questions::edit_question,
        questions::create_answer,
        questions::edit_answer,
        questions::accept_answer,
        questions::unaccept_answer,
        questions::comment_question,
        questions::comment_answer,
        questions::vote_question,
        questions::vote_answer,
        questions::revisions,
        moderation::flag_post,
        moderation::list_flags,
        moderation::decide_flag,
        moderation::hide_post,
        moderation::unhide_post,
        moderation::lock_thread,
        moderation::unlock_thread,
        moderation::pin_thread,
        moderation::unpin_thread,
        moderation::close_question,
        moderation::reopen_question,
        moderation::suspend_user,
        moderation::lift_suspension,
        moderation::moderation_log,
        moderation::review_queue,
        moderation::offer_bounty,
        moderation::delete_spam,
        moderation::erase_person,
        moderation::award_bounty,
        moderation::review_edit,
        moderation::review_first_post,
        notifications::list_notifications,
        notifications::read_notification,
        notifications::read_all_notifications,
        notifications::get_settings,
        notifications::put_settings,
        notifications::follow_question,
        notifications::unfollow_question,
        notifications::follow_tag,
        notifications::unfollow_tag,
    ),
    components(schemas(crate::web::error::Problem)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
