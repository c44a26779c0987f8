DROP TABLE tag_follows;
DROP TABLE question_follows;
DROP TABLE notification_settings;
DROP TABLE notifications;
