-- Indexes for the admin filters and the server-key and app-wide statements, which read a
-- table whole, or every user of an app, without them (sqlite/plan_internal_test.go checks
-- every admin and hot-path statement's plan).

-- The admin user listing: an app's users in id order, alone or filtered by disabled or type.
-- (app_id, type) also serves serverKeysOf, which finds an app's server users.
CREATE INDEX users_app_id_id ON users (app_id, id);
CREATE INDEX users_app_id_disabled ON users (app_id, disabled, id);
CREATE INDEX users_app_id_type ON users (app_id, type, id);

-- The admin provider filter: the users with an identity of a provider.
CREATE INDEX identities_provider_type ON identities (provider_type, user_id);

-- DeleteApp deletes an app's keys and sessions by app_id.
CREATE INDEX api_keys_app_id ON api_keys (app_id);
CREATE INDEX sessions_app_id ON sessions (app_id);
