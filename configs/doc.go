// Package configs is the configuration machinery of Chorus and its assets:
// the example YAML (chorus.example.yaml, which documents every field and
// holds exactly the defaults), the example knowledge base, the Prometheus
// alert rules and the Grafana dashboard.
//
// A configuration is a root struct whose fields are sections, each
// declared once by the package that uses it (bot.Config is "engine",
// telegram.Config is "telegram", ...) with its yaml tags, its defaults and
// a Validate method naming every bad field by its path within the
// section. The root struct lives in cmd/chorus. A config is built in four
// steps, each able to fail with an error that names the culprit:
//
//  1. Defaults: every field has a working default, so an empty file (or
//     none) is a valid config that runs offline on the console.
//  2. YAML: the file is decoded on top of the defaults with unknown keys
//     rejected, so a typo such as "telgram:" is an error naming the key and
//     its line rather than a silently ignored section.
//  3. Environment: CHORUS_<SECTION>_<KEY> overrides any scalar or string
//     list field (the name is the YAML path upper-cased and joined with "_":
//     CHORUS_TELEGRAM_API_URL, CHORUS_ENGINE_WORKERS,
//     CHORUS_TELEGRAM_WEBHOOK_SECRET). A field tagged env:"NAME" is also
//     read from NAME when nothing else set it (OPENAI_API_KEY for
//     llm.api_key). An empty variable counts as unset.
//  4. Secrets: a field tagged secret:"KEY" is a secret; it may also come
//     from the file named by its sibling field KEY (telegram.token_file),
//     read and trimmed of surrounding space.
//
// Validate then reports every problem at once, each a *bot.FieldError
// naming the field by its YAML path: the sections' own checks, and the
// checks a tag asks for against the platforms the binary speaks
// (platform:"keys" for maps keyed by platform, platform:"users" for user
// keys PLATFORM:ID, platform:"homes" for home chats PLATFORM:NUMERIC_ID).
//
// Two more tags: empty:"default" makes a blank value mean the default (an
// API URL, a mode), and redact:"url" marks a URL whose password and secret
// query parameters are secrets. Secrets are never printed: Redacted hides
// them before a config is shown, Secrets lists them for the redaction in
// front of the logs, and no error message produced here quotes them.
//
// It imports bot only for what the sections share with it: the field
// errors and URL redaction.
package configs
