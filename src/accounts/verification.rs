//! Links sent by mail: address verification (48 hours) and password reset (1 hour). Each token is
//! 32 random bytes, stored only as a hash, and works once. Sign-up works before verifying; each
//! message is queued in the transaction that causes it.

use chrono::TimeDelta;
use diesel::prelude::*;

use super::{hash_secret, now, random_token, User};
use crate::db::schema::{email_tokens, users};
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::mail::Email;

/// What a token is for, and how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
    fn valid_for(self) -> TimeDelta {
        match self {
            Purpose::VerifyEmail => TimeDelta::hours(48),
            Purpose::ResetPassword => TimeDelta::hours(1),
        }
    }
}

/// Creates a token for `user` and returns it (to put in the link).
pub fn create_token(conn: &mut DbConnection, user: &User, purpose: Purpose) -> Result<String> {
    let token = random_token();
    let now = now();
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::user_id.eq(user.id),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::token_hash.eq(hash_secret(&token)),
            email_tokens::expires_at.eq(now + purpose.valid_for()),
            email_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Queues the verification message (rendered by the caller) in the current transaction.
pub fn queue_message(conn: &mut DbConnection, mail: &Email) -> Result<()> {
    crate::jobs::enqueue(conn, mail, crate::jobs::EnqueueOptions { priority: 10, ..Default::default() })?;
    Ok(())
}

/// The user a still-valid token belongs to (without using it up), and the token's row id.
fn valid(conn: &mut DbConnection, token: &str, purpose: Purpose) -> Result<Option<(i64, i64)>> {
    Ok(email_tokens::table
        .filter(email_tokens::token_hash.eq(hash_secret(token)))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now()))
        .select((email_tokens::id, email_tokens::user_id))
        .first(conn)
        .optional()?)
}

fn invalid_link() -> Error {
    Error::BadRequest("This link is not valid: it may have expired or been used already.".into())
}

/// The account a reset link can still be used for (to show its form, or a clear page if none).
pub fn reset_link_owner(conn: &mut DbConnection, token: &str) -> Result<User> {
    let (_, user_id) = valid(conn, token, Purpose::ResetPassword)?.ok_or_else(invalid_link)?;
    super::users::find(conn, user_id)
}

/// Uses a verification token: marks the address verified. Unknown, used and expired tokens all get
/// the same answer, which tells an attacker nothing.
pub fn verify(conn: &mut DbConnection, token: &str) -> Result<User> {
    crate::db::write_transaction(conn, |conn| {
        let (id, user_id) = valid(conn, token, Purpose::VerifyEmail)?.ok_or_else(invalid_link)?;
        let now = now();
        diesel::update(email_tokens::table.find(id)).set(email_tokens::used_at.eq(now)).execute(conn)?;
        diesel::update(users::table.find(user_id).filter(users::email_verified_at.is_null()))
            .set(users::email_verified_at.eq(now))
            .execute(conn)?;
        super::users::find(conn, user_id)
    })
}

/// Uses a reset token: sets the new password hash and ends every session and API token of the user.
pub fn reset_password(conn: &mut DbConnection, token: &str, new_hash: &str) -> Result<User> {
    crate::db::write_transaction(conn, |conn| {
        let (id, user_id) = valid(conn, token, Purpose::ResetPassword)?.ok_or_else(invalid_link)?;
        diesel::update(email_tokens::table.find(id)).set(email_tokens::used_at.eq(now())).execute(conn)?;
        diesel::update(users::table.find(user_id)).set(users::password_hash.eq(new_hash)).execute(conn)?;
        super::sessions::delete_all_for_user(conn, user_id)?;
        super::users::find(conn, user_id)
    })
}
