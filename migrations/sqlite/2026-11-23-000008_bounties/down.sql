ALTER TABLE users DROP COLUMN badges_bronze;
ALTER TABLE users DROP COLUMN badges_silver;
ALTER TABLE users DROP COLUMN badges_gold;
DROP TABLE user_badges;
DROP TABLE bounties;
