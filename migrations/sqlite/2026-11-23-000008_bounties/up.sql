CREATE TABLE bounties (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    offered_by BIGINT NOT NULL REFERENCES users(id),
    amount BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    awarded_answer_id BIGINT REFERENCES posts(id),
    awarded_amount BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE UNIQUE INDEX bounties_one_open ON bounties(question_id) WHERE status = 'open';
CREATE INDEX bounties_open_ends ON bounties(status, ends_at);

-- Badges earned, one row per person per badge (awarded by a background task).
CREATE TABLE user_badges (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    badge TEXT NOT NULL,
    post_id BIGINT,
    awarded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, badge)
);

-- Badge counts by tier, kept beside the reputation so names can show them without a query.
ALTER TABLE users ADD COLUMN badges_gold BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN badges_silver BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN badges_bronze BIGINT NOT NULL DEFAULT 0;
