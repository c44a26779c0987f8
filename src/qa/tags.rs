//! Tags: created on first use, counted per question.

use crate::accounts::User;
use crate::error::Error;
use crate::reputation::privileges::{Privilege, Privileges};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{post_tags, tags};
use crate::db::DbConnection;
use crate::domain::TagName;
use crate::error::Result;

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub question_count: i64,
}

/// Sets a question's tags to `names`, creating tags on first use (for people with the privilege)
/// and keeping counts right.
pub fn set_for_question(
    conn: &mut DbConnection,
    privileges: &Privileges,
    user: &User,
    post_id: i64,
    names: &[TagName],
) -> Result<()> {
    ensure_may_use(conn, privileges, user, names)?;
    let now = crate::accounts::now();
    let old: Vec<i64> = post_tags::table.filter(post_tags::post_id.eq(post_id)).select(post_tags::tag_id).load(conn)?;
    let mut new_ids = Vec::with_capacity(names.len());
    for name in names {
        crate::per_backend!(conn, |c| diesel::insert_into(tags::table)
            .values((tags::name.eq(name.as_str()), tags::question_count.eq(0), tags::created_at.eq(now)))
            .on_conflict(tags::name)
            .do_nothing()
            .execute(c))?;
        let id: i64 = tags::table.filter(tags::name.eq(name.as_str())).select(tags::id).first(conn)?;
        new_ids.push(id);
    }
    let removed: Vec<i64> = old.iter().copied().filter(|id| !new_ids.contains(id)).collect();
    let added: Vec<i64> = new_ids.iter().copied().filter(|id| !old.contains(id)).collect();
    if !removed.is_empty() {
        diesel::delete(
            post_tags::table.filter(post_tags::post_id.eq(post_id)).filter(post_tags::tag_id.eq_any(&removed)),
        )
        .execute(conn)?;
        diesel::update(tags::table.filter(tags::id.eq_any(&removed)))
            .set(tags::question_count.eq(tags::question_count - 1))
            .execute(conn)?;
    }
    for id in &added {
        diesel::insert_into(post_tags::table)
            .values((post_tags::post_id.eq(post_id), post_tags::tag_id.eq(id)))
            .execute(conn)?;
    }
    if !added.is_empty() {
        diesel::update(tags::table.filter(tags::id.eq_any(&added)))
            .set(tags::question_count.eq(tags::question_count + 1))
            .execute(conn)?;
    }
    Ok(())
}

/// New tags need the privilege to create them; existing ones anyone may use.
pub fn ensure_may_use(conn: &mut DbConnection, privileges: &Privileges, user: &User, names: &[TagName]) -> Result<()> {
    if privileges.has(user, Privilege::CreateTags) {
        return Ok(());
    }
    for name in names {
        if find(conn, name.as_str())?.is_none() {
            return Err(Error::forbidden(
                "privilege_required",
                format!(
                    "The tag {:?} does not exist yet, and {} needs {} reputation; you have {}. Choose an existing tag.",
                    name.as_str(),
                    Privilege::CreateTags.label().to_lowercase(),
                    privileges.needed(Privilege::CreateTags),
                    user.reputation
                ),
            ));
        }
    }
    Ok(())
}

/// Tag names of each of these questions, in one query.
pub fn names_for(conn: &mut DbConnection, post_ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<String>>> {
    let mut out: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for chunk in post_ids.chunks(500) {
        let rows: Vec<(i64, String)> = post_tags::table
            .inner_join(tags::table)
            .filter(post_tags::post_id.eq_any(chunk))
            .order((post_tags::post_id, tags::name))
            .select((post_tags::post_id, tags::name))
            .load(conn)?;
        for (post, name) in rows {
            out.entry(post).or_default().push(name);
        }
    }
    Ok(out)
}

pub fn find(conn: &mut DbConnection, name: &str) -> Result<Option<Tag>> {
    Ok(tags::table
        .filter(tags::name.eq(name))
        .select((tags::id, tags::name, tags::question_count))
        .first(conn)
        .optional()?)
}

/// Tags by popularity (or by name), paged.
pub fn list(conn: &mut DbConnection, by_name: bool, page: i64, per_page: i64) -> Result<(Vec<Tag>, i64)> {
    let total: i64 = tags::table.filter(tags::question_count.gt(0)).count().get_result(conn)?;
    let q = tags::table
        .filter(tags::question_count.gt(0))
        .select((tags::id, tags::name, tags::question_count))
        .into_boxed();
    let q = if by_name { q.order(tags::name.asc()) } else { q.order((tags::question_count.desc(), tags::name.asc())) };
    let rows = q.limit(per_page).offset((page - 1) * per_page).load(conn)?;
    Ok((rows, total))
}
