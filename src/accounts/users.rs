//! User accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::users;
use crate::db::DbConnection;
use crate::domain::{Email, Role, Username};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    #[serde(skip)]
    pub username_lower: String,
    #[serde(skip)]
    pub email: String,
    #[serde(skip)]
    pub email_lower: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub reputation: i64,
    pub about: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    #[serde(skip)]
    pub email_verified_at: Option<NaiveDateTime>,
    pub suspended_until: Option<NaiveDateTime>,
    pub suspension_reason: Option<String>,
    pub badges_gold: i64,
    pub badges_silver: i64,
    pub badges_bronze: i64,
}

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }
    pub fn is_staff(&self) -> bool {
        self.role().is_staff()
    }
    pub fn path(&self) -> String {
        format!("/users/{}/{}", self.id, self.username)
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    username: &'a str,
    username_lower: &'a str,
    email: &'a str,
    email_lower: &'a str,
    password_hash: &'a str,
    role: &'a str,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
}

/// Creates an account. `password_hash` is already computed (off the async threads).
pub fn create(
    conn: &mut DbConnection,
    username: &Username,
    email: &Email,
    password_hash: &str,
    role: Role,
) -> Result<User> {
    let now = super::now();
    let (ulower, elower) = (username.lower(), email.lower());
    crate::db::write_transaction(conn, |conn| {
        let mut errors = crate::domain::FieldErrors::new();
        if users::table.filter(users::username_lower.eq(&ulower)).count().get_result::<i64>(conn)? > 0 {
            errors.add("username", "That username is taken.");
        }
        if users::table.filter(users::email_lower.eq(&elower)).count().get_result::<i64>(conn)? > 0 {
            errors.add("email", "An account with that e-mail address already exists.");
        }
        errors.into_result()?;
        let id: i64 = diesel::insert_into(users::table)
            .values(NewUser {
                username: username.as_str(),
                username_lower: &ulower,
                email: email.as_str(),
                email_lower: &elower,
                password_hash,
                role: role.as_str(),
                created_at: now,
                last_seen_at: now,
            })
            .returning(users::id)
            .get_result(conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    Error::field("username", "That username or e-mail address is taken.")
                }
                other => other.into(),
            })?;
        Ok(users::table.find(id).select(User::as_select()).first(conn)?)
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<User> {
    users::table.find(id).select(User::as_select()).first(conn).optional()?.ok_or(Error::NotFound("user"))
}

pub fn find_by_username(conn: &mut DbConnection, name: &str) -> Result<User> {
    users::table
        .filter(users::username_lower.eq(name.to_ascii_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound("user"))
}

/// Finds the account a log-in names, by username or e-mail, ignoring case.
pub fn find_by_login(conn: &mut DbConnection, login: &str) -> Result<Option<User>> {
    let login = login.trim();
    let q = users::table.select(User::as_select());
    let user = if login.contains('@') {
        q.filter(users::email_lower.eq(login.to_lowercase())).first(conn).optional()?
    } else {
        q.filter(users::username_lower.eq(login.to_ascii_lowercase())).first(conn).optional()?
    };
    Ok(user)
}

/// Loads the users with these ids (at most a few hundred; SQLite caps bound parameters).
pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<User>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(users::table.filter(users::id.eq_any(chunk)).select(User::as_select()).load(conn)?);
    }
    Ok(out)
}

/// Grants or revokes the superuser role (never changes staff or admins).
pub fn set_role(conn: &mut DbConnection, id: i64, role: Role) -> Result<User> {
    let user = find(conn, id)?;
    if user.is_staff() {
        return Err(Error::conflict("staff_role", "Staff and admin roles are not changed here."));
    }
    diesel::update(users::table.find(id)).set(users::role.eq(role.as_str())).execute(conn)?;
    find(conn, id)
}
