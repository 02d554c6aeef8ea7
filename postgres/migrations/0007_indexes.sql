-- Indexes for the admin filters and the server-key and app-wide statements, which read their
-- tables whole without them: at a million users each such statement took tens of
-- milliseconds, growing with the table (postgres/plan_internal_test.go checks every admin
-- and hot-path statement's plan).

-- The admin user listing: an app's users in id order, alone or filtered by disabled or type.
-- (app_id, type) also serves serverKeysOf, which finds an app's server users.
CREATE INDEX users_app_id_id_idx ON users (app_id, id);
CREATE INDEX users_app_id_disabled_idx ON users (app_id, disabled, id);
CREATE INDEX users_app_id_type_idx ON users (app_id, type, id);

-- The admin provider filter: the users with an identity of a provider.
CREATE INDEX identities_provider_type_idx ON identities (provider_type, user_id);

-- DeleteApp deletes an app's keys and sessions by app_id, which has no foreign key to index.
CREATE INDEX api_keys_app_id_idx ON api_keys (app_id);
CREATE INDEX sessions_app_id_idx ON sessions (app_id);
