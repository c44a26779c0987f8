-- Edits by people below the free-edit threshold wait here for reviewers.
CREATE TABLE suggested_edits (
    id BIGSERIAL PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT,
    body_md TEXT NOT NULL,
    tags TEXT,
    summary TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX suggested_edits_status ON suggested_edits(status, id);
CREATE UNIQUE INDEX suggested_edits_one_pending ON suggested_edits(post_id) WHERE status = 'pending';

CREATE TABLE review_votes (
    suggested_edit_id BIGINT NOT NULL REFERENCES suggested_edits(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    approve BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (suggested_edit_id, user_id)
);

-- First posts of new people, once a reviewer has looked at them.
CREATE TABLE first_post_reviews (
    post_id BIGINT PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    reviewer_id BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
