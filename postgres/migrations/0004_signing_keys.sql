-- Signing-key rotation: a retired key no longer signs, and verifies only until the tokens it
-- signed have expired. NULL marks the key that signs. Key material is sealed by the service
-- (AES-256-GCM under the server's secret) before it reaches this table.
ALTER TABLE signing_keys ADD COLUMN retired_at TIMESTAMPTZ;
