//! E-mail address verification: a single-use link, valid for 48 hours, whose token is stored
//! only as a hash. Sign-up works before verifying; the message is queued in the sign-up's own
//! transaction.

use chrono::TimeDelta;
use diesel::prelude::*;

use super::{hash_secret, now, random_token, User};
use crate::db::schema::{email_tokens, users};
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::mail::Email;

pub const PURPOSE: &str = "verify_email";
pub const VALID_FOR: TimeDelta = TimeDelta::hours(48);

/// Creates a verification token for `user` and returns the token (to put in the link).
pub fn create_token(conn: &mut DbConnection, user: &User) -> Result<String> {
    let token = random_token();
    let now = now();
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::user_id.eq(user.id),
            email_tokens::purpose.eq(PURPOSE),
            email_tokens::token_hash.eq(hash_secret(&token)),
            email_tokens::expires_at.eq(now + VALID_FOR),
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

/// Uses a token: marks the address verified. Unknown, used and expired tokens all get the same
/// answer, which tells an attacker nothing.
pub fn verify(conn: &mut DbConnection, token: &str) -> Result<User> {
    let hash = hash_secret(token);
    crate::db::write_transaction(conn, |conn| {
        let row: Option<(i64, i64)> = email_tokens::table
            .filter(email_tokens::token_hash.eq(&hash))
            .filter(email_tokens::purpose.eq(PURPOSE))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now()))
            .select((email_tokens::id, email_tokens::user_id))
            .first(conn)
            .optional()?;
        let Some((id, user_id)) = row else {
            return Err(Error::BadRequest(
                "This verification link is not valid: it may have expired or been used already.".into(),
            ));
        };
        let now = now();
        diesel::update(email_tokens::table.find(id)).set(email_tokens::used_at.eq(now)).execute(conn)?;
        diesel::update(users::table.find(user_id).filter(users::email_verified_at.is_null()))
            .set(users::email_verified_at.eq(now))
            .execute(conn)?;
        super::users::find(conn, user_id)
    })
}
