-- External auth providers: a custom JWT issuer, a custom function served as a webhook, and
-- Google and Apple sign-in. A user signs in with one through an identity that carries the
-- user's id at the provider (external_id, NULL for the built-in providers) and what the
-- provider said of the user at the last login (data, a JSON object; NULL when none).

ALTER TABLE identities ADD COLUMN external_id TEXT;
ALTER TABLE identities ADD COLUMN data TEXT;

-- One user per app and provider for an external id: provider_id is derived from the app and
-- the provider type (latchkey.ProviderID). Also FindUserByIdentity's lookup.
CREATE UNIQUE INDEX identities_provider_id_external_id ON identities (provider_id, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE auth_providers (
    app_id          TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    type            TEXT    NOT NULL,
    disabled        INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    config          TEXT    NOT NULL DEFAULT '{}', -- JSON of latchkey.AuthProviderConfig
    metadata_fields TEXT    NOT NULL DEFAULT '[]', -- JSON array of latchkey.MetadataField
    sealed_secrets  BLOB, -- sealed with the server's secret key; NULL when none
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (app_id, type)
);
