-- The reputation ledger: users.reputation is 1 + the sum of a person's deltas (a cache).
CREATE TABLE reputation_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    -- What the row gave after the daily cap and the floor of 1; nominal is the rule's value.
    delta BIGINT NOT NULL,
    nominal BIGINT NOT NULL,
    post_id BIGINT,
    actor_id BIGINT,
    reverses_id BIGINT REFERENCES reputation_events(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reputation_events_user ON reputation_events(user_id, created_at);
CREATE INDEX reputation_events_source ON reputation_events(post_id, actor_id, reason);
CREATE UNIQUE INDEX reputation_events_reverses ON reputation_events(reverses_id);
