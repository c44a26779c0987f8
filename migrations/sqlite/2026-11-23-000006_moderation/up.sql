-- Moderation state on posts: hidden (never deleted), locked, closed (maybe as a duplicate), pinned.
ALTER TABLE posts ADD COLUMN hidden_at TIMESTAMP;
ALTER TABLE posts ADD COLUMN hidden_reason TEXT;
ALTER TABLE posts ADD COLUMN locked_at TIMESTAMP;
ALTER TABLE posts ADD COLUMN locked_reason TEXT;
ALTER TABLE posts ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE posts ADD COLUMN close_reason TEXT;
ALTER TABLE posts ADD COLUMN duplicate_of BIGINT REFERENCES posts(id);
ALTER TABLE posts ADD COLUMN pinned_at TIMESTAMP;

-- Suspension: the person can read and sees why; they cannot write until it lifts.
ALTER TABLE users ADD COLUMN suspended_until TIMESTAMP;
ALTER TABLE users ADD COLUMN suspension_reason TEXT;

CREATE TABLE flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    duplicate_of BIGINT REFERENCES posts(id),
    status TEXT NOT NULL DEFAULT 'pending',
    handled_by BIGINT REFERENCES users(id),
    handled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (post_id, user_id)
);
CREATE INDEX flags_status ON flags(status, id);

CREATE TABLE close_votes (
    question_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    duplicate_of BIGINT REFERENCES posts(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (question_id, user_id, kind)
);

-- The public moderation log: every moderator action, with who, what, why and when.
CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_log_action ON moderation_log(action, id);
