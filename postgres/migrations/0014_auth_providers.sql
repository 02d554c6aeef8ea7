-- External auth providers: a custom JWT issuer, a custom function served as a webhook, and
-- Google and Apple sign-in. A user signs in with one through an identity that carries the
-- user's id at the provider (external_id, NULL for the built-in providers) and what the
-- provider said of the user at the last login (data, a JSON object; NULL when none).

ALTER TABLE identities ADD COLUMN external_id TEXT;
ALTER TABLE identities ADD COLUMN data JSONB;

-- One user per app and provider for an external id: provider_id is derived from the app and
-- the provider type (latchkey.ProviderID). Also FindUserByIdentity's lookup. The store tells
-- it from identities_user_id_provider_type_key by name: keep the name stable.
CREATE UNIQUE INDEX identities_provider_id_external_id_key ON identities (provider_id, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE auth_providers (
    app_id          TEXT        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    type            TEXT        NOT NULL,
    disabled        BOOLEAN     NOT NULL DEFAULT FALSE,
    config          JSONB       NOT NULL DEFAULT '{}', -- latchkey.AuthProviderConfig
    metadata_fields JSONB       NOT NULL DEFAULT '[]', -- array of latchkey.MetadataField
    sealed_secrets  BYTEA, -- sealed with the server's secret key; NULL when none
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT auth_providers_pkey PRIMARY KEY (app_id, type)
);
