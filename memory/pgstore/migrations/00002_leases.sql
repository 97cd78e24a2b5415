-- Several replicas: leases on conversations (one replica works a
-- conversation at a time) and leads of fleet-wide work (retention,
-- Telegram's long polling, Discord shards). A lease is live until its
-- expiry, in the server's clock, which its holder keeps pushing on; a
-- replica that dies stops pushing, and another may take it after.

-- +goose Up
CREATE TABLE conv_leases (
	conv    bytea NOT NULL,
	owner   text NOT NULL,
	expires timestamptz NOT NULL
);
CREATE UNIQUE INDEX conv_leases_conv ON conv_leases (chorus_key(conv));
CREATE INDEX conv_leases_owner ON conv_leases (owner);

CREATE TABLE leads (
	name    text PRIMARY KEY,
	owner   text NOT NULL,
	expires timestamptz NOT NULL
);

-- The holder of a conversation takes its pending messages in order.
CREATE INDEX pending_conv ON pending (chorus_key(conv), seq);

-- +goose Down
DROP INDEX pending_conv;
DROP TABLE leads, conv_leases;
