-- Fleet-wide limits: each user's rate-limit token bucket and the tokens
-- each user and chat spent per UTC day, counted here so that they hold
-- for every replica together.

-- +goose Up
CREATE TABLE rate_buckets (
	key     bytea NOT NULL,
	tokens  double precision NOT NULL,
	last_ns bigint NOT NULL,
	ok      boolean NOT NULL DEFAULT true -- the last take found a token
);
CREATE UNIQUE INDEX rate_buckets_key ON rate_buckets (chorus_key(key));
CREATE INDEX rate_buckets_last ON rate_buckets (last_ns);

CREATE TABLE budgets (
	day  text NOT NULL, -- YYYY-MM-DD, UTC
	key  bytea NOT NULL,
	used bigint NOT NULL
);
CREATE UNIQUE INDEX budgets_key ON budgets (day, chorus_key(key));

-- +goose Down
DROP TABLE budgets, rate_buckets;
