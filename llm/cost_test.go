package llm

import (
	"math"
	"testing"

	"github.com/chorusbot/chorus/bot"
)

func TestPricesCost(t *testing.T) {
	p := Prices{
		"gpt-4o":       {PromptPer1M: 2.5, CompletionPer1M: 10},
		"gpt-4o*":      {PromptPer1M: 3, CompletionPer1M: 12},
		"gpt-4o-mini*": {PromptPer1M: 0.15, CompletionPer1M: 0.6},
	}
	u := bot.Usage{PromptTokens: 2_000_000, CompletionTokens: 500_000}
	tests := []struct {
		model string
		want  float64
	}{
		{"gpt-4o", 5 + 5},
		{"gpt-4o-2024-08-06", 6 + 6},
		{"gpt-4o-mini-2024-07-18", 0.3 + 0.3},
		{"llama3", 0},
		{OfflineModel, 0},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if got := p.Cost(tt.model, u); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Cost = %v, want %v", got, tt.want)
			}
		})
	}
	if got := Prices(nil).Cost("gpt-4o", u); got != 0 {
		t.Errorf("nil Prices cost %v", got)
	}
}
