-- An error's link names its request (co_id): the console finds that request's audit events
-- by request id without reading the whole log.
CREATE INDEX IF NOT EXISTS audit_events_request_id ON audit_events (request_id);
