//! Server-side sessions: a random id in a cookie, only its hash in the database.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::{hash_secret, now, random_token, User};
use crate::db::schema::{sessions, users};
use crate::db::DbConnection;
use crate::error::Result;

/// A session as the request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user: User,
    /// The session was marked as seen just now, so its cookie's expiry should move too.
    pub renewed: bool,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct NewSession<'a> {
    id: &'a str,
    user_id: i64,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    user_agent: &'a str,
}

/// Starts a session and returns the cookie value. A fresh id every log-in (no fixation).
pub fn create(conn: &mut DbConnection, user_id: i64, user_agent: &str) -> Result<String> {
    let token = random_token();
    let now = now();
    let ua: String = user_agent.chars().take(200).collect();
    diesel::insert_into(sessions::table)
        .values(NewSession { id: &hash_secret(&token), user_id, created_at: now, last_seen_at: now, user_agent: &ua })
        .execute(conn)?;
    Ok(token)
}

/// Looks a cookie up; ends it if idle for longer than `idle_minutes`; marks it seen at most once a minute.
pub fn lookup(conn: &mut DbConnection, token: &str, idle_minutes: i64) -> Result<Option<Session>> {
    let id_hash = hash_secret(token);
    let row: Option<(NaiveDateTime, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&id_hash))
        .select((sessions::last_seen_at, User::as_select()))
        .first(conn)
        .optional()?;
    let Some((last_seen, user)) = row else { return Ok(None) };
    let now = now();
    if now - last_seen > TimeDelta::minutes(idle_minutes) {
        diesel::delete(sessions::table.find(&id_hash)).execute(conn)?;
        return Ok(None);
    }
    let renewed = now - last_seen > TimeDelta::seconds(60);
    if renewed {
        diesel::update(sessions::table.find(&id_hash)).set(sessions::last_seen_at.eq(now)).execute(conn)?;
        diesel::update(users::table.find(user.id)).set(users::last_seen_at.eq(now)).execute(conn)?;
    }
    Ok(Some(Session { id_hash, user, renewed }))
}

pub fn delete(conn: &mut DbConnection, id_hash: &str) -> Result<()> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}

/// Ends every session and API token of a user ("log out everywhere").
pub fn delete_all_for_user(conn: &mut DbConnection, user_id: i64) -> Result<usize> {
    let n = diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
    let m =
        diesel::delete(crate::db::schema::api_tokens::table.filter(crate::db::schema::api_tokens::user_id.eq(user_id)))
            .execute(conn)?;
    Ok(n + m)
}
