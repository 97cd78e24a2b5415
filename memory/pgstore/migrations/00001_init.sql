-- The first schema: everything the bbolt store keeps, as tables.
--
-- Names and texts from outside (conversation and user keys, message ids,
-- display names, message text) are bytea: they may hold NUL bytes, which
-- text columns refuse. Times are Unix nanoseconds (0 for none), as the
-- bbolt store keeps them, so that a deployment moved between the two
-- exports the same. Keys that may be long are indexed through chorus_key,
-- which is the key itself up to 512 bytes and a SHA-256 past that (a
-- B-tree entry can't exceed a third of a page).

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION chorus_key(k bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT CASE WHEN length(k) <= 512 THEN k ELSE '\xff'::bytea || sha256(k) END $$;
-- +goose StatementEnd

-- The inbox: dedup records, and messages accepted but not yet handled.
CREATE TABLE dedup (
	key         bytea PRIMARY KEY,
	accepted_ns bigint NOT NULL
);
CREATE INDEX dedup_accepted ON dedup (accepted_ns);

CREATE TABLE pending (
	seq  bigserial PRIMARY KEY,
	key  bytea NOT NULL UNIQUE,
	conv bytea NOT NULL,
	body bytea NOT NULL -- JSON bot.Message
);

-- Conversations, their turns and rolling summaries.
CREATE TABLE conversations (
	id                 bigserial PRIMARY KEY,
	key                bytea NOT NULL,
	last_seq           bigint NOT NULL DEFAULT 0,
	summary            bytea, -- JSON bot.Summary
	summary_updated_ns bigint
);
CREATE UNIQUE INDEX conversations_key ON conversations (chorus_key(key));

CREATE TABLE turns (
	conv       bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq        bigint NOT NULL,
	role       text NOT NULL,
	usr        bytea NOT NULL,
	name       bytea NOT NULL,
	msg_id     bytea NOT NULL,
	text       bytea NOT NULL,
	at_ns      bigint NOT NULL,
	tokens     integer NOT NULL,
	unanswered boolean NOT NULL DEFAULT false,
	PRIMARY KEY (conv, seq)
);
CREATE UNIQUE INDEX turns_msg ON turns (conv, chorus_key(msg_id)) WHERE role = 'user' AND msg_id <> '';
CREATE INDEX turns_usr ON turns (chorus_key(usr)) WHERE usr <> '';
CREATE INDEX turns_at ON turns (at_ns);

CREATE TABLE summary_users (
	conv bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	usr  bytea NOT NULL
);
CREATE UNIQUE INDEX summary_users_usr ON summary_users (chorus_key(usr), conv);
CREATE INDEX summary_users_conv ON summary_users (conv);

-- Profiles; name_key and handle_key are the lower-case current display
-- name and @username that FindUsers compares (NULL: not findable).
CREATE TABLE profiles (
	id         bigserial PRIMARY KEY,
	usr        bytea NOT NULL,
	platform   bytea NOT NULL,
	names      bytea[] NOT NULL DEFAULT '{}',
	handle     bytea NOT NULL DEFAULT '',
	first_ns   bigint NOT NULL,
	last_ns    bigint NOT NULL,
	messages   bigint NOT NULL DEFAULT 0,
	lang       bytea NOT NULL DEFAULT '',
	name_key   bytea,
	handle_key bytea
);
CREATE UNIQUE INDEX profiles_usr ON profiles (chorus_key(usr));
CREATE INDEX profiles_name ON profiles (platform, name_key) WHERE name_key IS NOT NULL;
CREATE INDEX profiles_handle ON profiles (platform, handle_key) WHERE handle_key IS NOT NULL;

CREATE TABLE profile_topics (
	profile bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	topic   bytea NOT NULL,
	n       bigint NOT NULL
);
CREATE UNIQUE INDEX profile_topics_key ON profile_topics (profile, chorus_key(topic));

-- The key-value space of the plug-ins.
CREATE TABLE kv (
	bucket bytea NOT NULL,
	key    bytea NOT NULL,
	value  bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);

-- The audit log; body is the JSON bot.AuditEntry, the columns are what
-- queries, export and forget find entries by.
CREATE TABLE audit (
	id    bigserial PRIMARY KEY,
	at_ns bigint NOT NULL,
	usr   bytea NOT NULL,
	actor bytea NOT NULL,
	kind  bytea NOT NULL,
	chat  bytea NOT NULL,
	body  bytea NOT NULL
);
CREATE INDEX audit_at ON audit (at_ns, id);
CREATE INDEX audit_usr ON audit (chorus_key(usr)) WHERE usr <> '';
CREATE INDEX audit_actor ON audit (chorus_key(actor)) WHERE actor <> '';

-- The knowledge base: documents (JSON memory.Doc) and their passages
-- (JSON memory.TextChunk, in order).
CREATE TABLE kb_docs (
	id   bigserial PRIMARY KEY,
	key  bytea NOT NULL, -- source, NUL, path
	body bytea NOT NULL
);
CREATE UNIQUE INDEX kb_docs_key ON kb_docs (chorus_key(key));

CREATE TABLE kb_passages (
	doc  bigint NOT NULL REFERENCES kb_docs (id) ON DELETE CASCADE,
	ord  integer NOT NULL,
	body bytea NOT NULL,
	PRIMARY KEY (doc, ord)
);

-- chorus migrate-store: how far each kind of record was copied.
CREATE TABLE migrate_progress (
	kind   text PRIMARY KEY,
	last   bytea NOT NULL,
	copied bigint NOT NULL
);

-- Appends a turn: a user turn whose message id the conversation already
-- holds replaces that turn's text and tokens (an edit, or a replay); any
-- other takes the conversation's next seq. The conversation's row is
-- locked while its seq is taken, so seqs are unique and increasing
-- whatever the concurrency.
-- +goose StatementBegin
CREATE FUNCTION chorus_append(p_conv bytea, p_role text, p_usr bytea, p_name bytea, p_msg bytea,
	p_text bytea, p_at bigint, p_tokens integer, p_unanswered boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	c bigint;
	s bigint;
BEGIN
	IF p_role = 'user' AND p_msg <> '' THEN
		UPDATE turns t SET text = p_text, tokens = p_tokens
		FROM conversations x
		WHERE chorus_key(x.key) = chorus_key(p_conv) AND t.conv = x.id
			AND t.role = 'user' AND t.msg_id <> '' AND chorus_key(t.msg_id) = chorus_key(p_msg)
		RETURNING t.seq INTO s;
		IF FOUND THEN
			RETURN s;
		END IF;
	END IF;
	INSERT INTO conversations AS x (key, last_seq) VALUES (p_conv, 1)
	ON CONFLICT (chorus_key(key)) DO UPDATE SET last_seq = x.last_seq + 1
	RETURNING id, last_seq INTO c, s;
	INSERT INTO turns (conv, seq, role, usr, name, msg_id, text, at_ns, tokens, unanswered)
	VALUES (c, s, p_role, p_usr, p_name, p_msg, p_text, p_at, p_tokens, p_unanswered);
	RETURN s;
END
$$;
-- +goose StatementEnd

-- Counts topics a user asked about, in order, as the bbolt store does: a
-- topic already counted, or a new one while fewer than max are, is
-- counted; an unknown user's are dropped.
-- +goose StatementBegin
CREATE FUNCTION chorus_add_topics(p_usr bytea, p_topics bytea[], p_max integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	p bigint;
	t bytea;
	have integer;
BEGIN
	SELECT id INTO p FROM profiles WHERE chorus_key(usr) = chorus_key(p_usr) FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT count(*) INTO have FROM profile_topics WHERE profile = p;
	FOREACH t IN ARRAY p_topics LOOP
		UPDATE profile_topics SET n = n + 1 WHERE profile = p AND chorus_key(topic) = chorus_key(t);
		IF NOT FOUND AND have < p_max THEN
			INSERT INTO profile_topics (profile, topic, n) VALUES (p, t, 1);
			have := have + 1;
		END IF;
	END LOOP;
END
$$;
-- +goose StatementEnd

-- Puts name last in names, once, keeping the latest keep.
-- +goose StatementBegin
CREATE FUNCTION chorus_push_name(names bytea[], name bytea, keep integer) RETURNS bytea[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT x[greatest(1, cardinality(x) - keep + 1):cardinality(x)]
	FROM (SELECT array_append(array_remove(coalesce(names, '{}'), name), name) AS x) s
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE migrate_progress, kb_passages, kb_docs, audit, kv, profile_topics, profiles,
	summary_users, turns, conversations, pending, dedup;
DROP FUNCTION chorus_push_name(bytea[], bytea, integer);
DROP FUNCTION chorus_add_topics(bytea, bytea[], integer);
DROP FUNCTION chorus_append(bytea, text, bytea, bytea, bytea, bytea, bigint, integer, boolean);
DROP FUNCTION chorus_key(bytea);
