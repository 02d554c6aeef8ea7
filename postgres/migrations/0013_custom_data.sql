-- Custom user data: a JSON object that access tokens carry as their user_data claim. NULL
-- when the user has none.

ALTER TABLE users ADD COLUMN custom_data JSONB;
