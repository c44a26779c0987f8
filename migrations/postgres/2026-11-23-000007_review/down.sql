DROP TABLE first_post_reviews;
DROP TABLE review_votes;
DROP TABLE suggested_edits;
