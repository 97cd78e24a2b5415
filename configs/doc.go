// Package configs is the typed configuration of the chorus binary.
//
// A config is built in four steps, each able to fail with an error that
// names the culprit:
//
//  1. Default: every field has a working default, so an empty file (or
//     none) is a valid config that runs offline on the console.
//  2. YAML: the file is decoded on top of the defaults with unknown keys
//     rejected, so a typo such as "telgram:" is an error naming the key and
//     its line rather than a silently ignored section.
//  3. Environment: CHORUS_<SECTION>_<KEY> overrides any scalar or string
//     list field (the name is the YAML path upper-cased and joined with "_":
//     CHORUS_TELEGRAM_API_URL, CHORUS_ENGINE_WORKERS,
//     CHORUS_TELEGRAM_WEBHOOK_SECRET). OPENAI_API_KEY stands in for
//     CHORUS_LLM_API_KEY when no API key is configured any other way. An
//     empty variable counts as unset.
//  4. Secrets: a token may also come from a file named by its *_file field
//     (telegram.token_file, ...), read and trimmed of surrounding space.
//
// The caller then calls Validate, which reports every problem at once, each
// naming the field by its YAML path and saying what is allowed.
//
// Each section lives in its own file with its own defaults and validation,
// so that the engineer who owns a section can extend it in one place.
//
// Secrets (llm.api_key, telegram.token, telegram.webhook.secret,
// discord.token) are never printed: use Redacted before showing a config,
// and no error message produced here quotes them.
package configs
