// Package llm holds Chorus's language models: Client, which speaks the
// OpenAI chat-completions protocol (via go-openai) to any compatible base URL
// (OpenAI, Azure-style gateways, Ollama, vLLM, llama.cpp server), and
// Offline, the provider used when no model is configured, which answers
// extractively from the knowledge-base passages the engine found.
//
// Client streams replies with usage reported at the end of the stream,
// retries transient failures (429, 5xx, timeouts, network errors) with
// exponential back-off and full jitter honouring Retry-After, bounds every
// call with a timeout, and returns errors that wrap the bot sentinels
// (bot.ErrLLMUnavailable, bot.ErrLLMTimeout, bot.ErrLLMRejected,
// bot.ErrStreamCut). Before any text leaves the machine it masks personal
// data (emails, phone numbers, card numbers, IBANs, configured patterns)
// with placeholders such as [EMAIL_1], and unmasks the reply, see Masker.
//
// The package also has the exact token counter (NewTokenCounter: tiktoken's
// o200k_base count from a compact vocabulary embedded in the binary, no
// network) and a price table (Prices) for turning usage into money.
package llm
