//! Portable schema shared by SQLite and PostgreSQL (BigInt ids, Text, UTC timestamps without zone).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        username_lower -> Text,
        email -> Text,
        email_lower -> Text,
        password_hash -> Text,
        role -> Text,
        reputation -> BigInt,
        about -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
        suspended_until -> Nullable<Timestamp>,
        suspension_reason -> Nullable<Text>,
        badges_gold -> BigInt,
        badges_silver -> BigInt,
        badges_bronze -> BigInt,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        user_agent -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    posts (id) {
        id -> BigInt,
        kind -> Text,
        question_id -> Nullable<BigInt>,
        author_id -> BigInt,
        title -> Nullable<Text>,
        slug -> Text,
        body_md -> Text,
        body_html -> Text,
        score -> BigInt,
        view_count -> BigInt,
        answer_count -> BigInt,
        accepted_answer_id -> Nullable<BigInt>,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_activity_at -> Timestamp,
        version -> BigInt,
        hidden_at -> Nullable<Timestamp>,
        hidden_reason -> Nullable<Text>,
        locked_at -> Nullable<Timestamp>,
        locked_reason -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        close_reason -> Nullable<Text>,
        duplicate_of -> Nullable<BigInt>,
        pinned_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        name -> Text,
        question_count -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_tags (post_id, tag_id) {
        post_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        post_id -> BigInt,
        author_id -> BigInt,
        body_md -> Text,
        body_html -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    votes (user_id, post_id) {
        user_id -> BigInt,
        post_id -> BigInt,
        value -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_revisions (id) {
        id -> BigInt,
        post_id -> BigInt,
        revision -> Integer,
        author_id -> BigInt,
        title -> Nullable<Text>,
        body_md -> Text,
        tags -> Text,
        summary -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(comments -> users (author_id));
diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(post_tags -> posts (post_id));
diesel::joinable!(post_tags -> tags (tag_id));
diesel::joinable!(votes -> posts (post_id));
diesel::joinable!(post_revisions -> users (author_id));
diesel::joinable!(tag_follows -> tags (tag_id));
diesel::joinable!(question_follows -> posts (question_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    api_tokens,
    email_tokens,
    posts,
    tags,
    post_tags,
    comments,
    votes,
    post_revisions,
    notifications,
    notification_settings,
    question_follows,
    tag_follows,
    reputation_events,
    flags,
    close_votes,
    moderation_log,
    suggested_edits,
    review_votes,
    first_post_reviews,
    bounties,
    user_badges,
);

diesel::table! {
    jobs (id) {
        id -> BigInt,
        name -> Text,
        payload -> Text,
        priority -> Integer,
        state -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        last_error -> Nullable<Text>,
        dedupe_key -> Nullable<Text>,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        event_key -> Text,
        actor_id -> Nullable<BigInt>,
        question_id -> Nullable<BigInt>,
        post_id -> Nullable<BigInt>,
        comment_id -> Nullable<BigInt>,
        excerpt -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_settings (user_id, kind) {
        user_id -> BigInt,
        kind -> Text,
        channel -> Text,
    }
}

diesel::table! {
    question_follows (user_id, question_id) {
        user_id -> BigInt,
        question_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tag_follows (user_id, tag_id) {
        user_id -> BigInt,
        tag_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reputation_events (id) {
        id -> BigInt,
        user_id -> BigInt,
        reason -> Text,
        delta -> BigInt,
        nominal -> BigInt,
        post_id -> Nullable<BigInt>,
        actor_id -> Nullable<BigInt>,
        reverses_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    flags (id) {
        id -> BigInt,
        post_id -> BigInt,
        user_id -> BigInt,
        reason -> Text,
        details -> Text,
        duplicate_of -> Nullable<BigInt>,
        status -> Text,
        handled_by -> Nullable<BigInt>,
        handled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    close_votes (question_id, user_id, kind) {
        question_id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        reason -> Text,
        duplicate_of -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target_kind -> Text,
        target_id -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    suggested_edits (id) {
        id -> BigInt,
        post_id -> BigInt,
        author_id -> BigInt,
        title -> Nullable<Text>,
        body_md -> Text,
        tags -> Nullable<Text>,
        summary -> Text,
        status -> Text,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    review_votes (suggested_edit_id, user_id) {
        suggested_edit_id -> BigInt,
        user_id -> BigInt,
        approve -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    first_post_reviews (post_id) {
        post_id -> BigInt,
        reviewer_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bounties (id) {
        id -> BigInt,
        question_id -> BigInt,
        offered_by -> BigInt,
        amount -> BigInt,
        status -> Text,
        awarded_answer_id -> Nullable<BigInt>,
        awarded_amount -> BigInt,
        created_at -> Timestamp,
        ends_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_badges (user_id, badge) {
        user_id -> BigInt,
        badge -> Text,
        post_id -> Nullable<BigInt>,
        awarded_at -> Timestamp,
    }
}
