//! API bearer tokens: random, shown once, stored hashed.

use chrono::TimeDelta;
use diesel::prelude::*;

use super::{hash_secret, now, random_token, User};
use crate::db::schema::{api_tokens, users};
use crate::db::DbConnection;
use crate::error::Result;

pub fn create(conn: &mut DbConnection, user_id: i64) -> Result<String> {
    let token = format!("nave_{}", random_token());
    let now = now();
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::token_hash.eq(hash_secret(&token)),
            api_tokens::created_at.eq(now),
            api_tokens::last_used_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

pub fn lookup(conn: &mut DbConnection, token: &str) -> Result<Option<User>> {
    let hash = hash_secret(token);
    let row: Option<(i64, chrono::NaiveDateTime, User)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(&hash))
        .select((api_tokens::id, api_tokens::last_used_at, User::as_select()))
        .first(conn)
        .optional()?;
    let Some((id, last_used, user)) = row else { return Ok(None) };
    let now = now();
    if now - last_used > TimeDelta::seconds(60) {
        diesel::update(api_tokens::table.find(id)).set(api_tokens::last_used_at.eq(now)).execute(conn)?;
    }
    Ok(Some(user))
}
