DROP TABLE reputation_events;
