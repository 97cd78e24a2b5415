package llm

import (
	"strings"

	"github.com/chorusbot/chorus/bot"
)

// Price is what a model costs, in currency units (say US dollars) per
// million tokens.
type Price struct {
	PromptPer1M     float64 `yaml:"prompt_per_1m"`
	CompletionPer1M float64 `yaml:"completion_per_1m"`
}

// Prices maps model names to prices. A key ending in "*" is a prefix
// ("gpt-4o*" prices "gpt-4o-2024-08-06"); an exact name wins over a
// prefix, and a longer prefix over a shorter.
type Prices map[string]Price

// Cost is what usage u of model cost; zero for an unpriced model (local
// models, the offline provider).
func (p Prices) Cost(model string, u bot.Usage) float64 {
	price, ok := p[model]
	if !ok {
		best := -1
		for k, v := range p {
			prefix, wild := strings.CutSuffix(k, "*")
			if wild && strings.HasPrefix(model, prefix) && len(prefix) > best {
				best, price, ok = len(prefix), v, true
			}
		}
	}
	if !ok {
		return 0
	}
	return (float64(u.PromptTokens)*price.PromptPer1M + float64(u.CompletionTokens)*price.CompletionPer1M) / 1e6
}
