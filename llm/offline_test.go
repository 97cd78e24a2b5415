package llm

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/bot"
)

var (
	persona = bot.Persona{Brand: "Acme Coffee", BotName: "Bean"}

	passagesEN = []bot.Passage{
		{Source: "shipping.md", Heading: "Shipping", Text: "We ship to 30 countries.\nStandard shipping takes 3 to 5 business days. Orders over $50 ship free. Express delivery costs $9.99 and arrives next day."},
		{Source: "returns.md", Heading: "Returns", Text: "You can return unopened bags within 30 days for a full refund. Opened bags can be exchanged."},
	}
	passagesZH = []bot.Passage{
		{Source: "退货.md", Heading: "退货政策", Text: "未开封的咖啡豆可在30天内退货，全额退款。已开封的商品可以换货。退货运费由我们承担。"},
		{Source: "配送.md", Heading: "配送", Text: "我们配送到全国各地。标准配送需要3到5个工作日。"},
	}
)

func TestOfflineChat(t *testing.T) {
	tests := []struct {
		name     string
		req      bot.Request
		contains []string
		absent   []string
	}{
		{name: "english answer with source",
			req:      bot.Request{Query: "How long does shipping take?", Lang: "en", Passages: passagesEN},
			contains: []string{"Standard shipping takes 3 to 5 business days.", "(from shipping)"},
			absent:   []string{"refund"}},
		{name: "english answer from the second passage",
			req:      bot.Request{Query: "can I get a refund on an opened bag?", Lang: "en", Passages: passagesEN},
			contains: []string{"Opened bags can be exchanged.", "(from returns)"},
			absent:   []string{"business days"}},
		{name: "chinese answer with source",
			req:      bot.Request{Query: "咖啡豆可以退货吗？", Lang: "zh", Passages: passagesZH},
			contains: []string{"未开封的咖啡豆可在30天内退货", "（来源：退货）"},
			absent:   []string{"工作日"}},
		{name: "chinese detected without Lang",
			req:      bot.Request{Query: "配送需要几个工作日", Passages: passagesZH},
			contains: []string{"标准配送需要3到5个工作日。", "（来源：配送）"}},
		{name: "greeting en",
			req:      bot.Request{Query: "Hello there!", Lang: "en", Passages: passagesEN},
			contains: []string{"Hi! I'm Bean, Acme Coffee's assistant.", "/help"},
			absent:   []string{"source"}},
		{name: "greeting zh",
			req:      bot.Request{Query: "你好", Lang: "zh"},
			contains: []string{"你好！我是Bean，Acme Coffee的助手"}},
		{name: "greeting with a question is a question",
			req:      bot.Request{Query: "hi, how long does shipping take?", Lang: "en", Passages: passagesEN},
			contains: []string{"(from shipping)"}},
		{name: "thanks en",
			req:      bot.Request{Query: "thanks a lot!", Lang: "en"},
			contains: []string{"You're welcome!", "Acme Coffee"}},
		{name: "thanks zh",
			req:      bot.Request{Query: "谢谢！", Lang: "zh"},
			contains: []string{"不客气"}},
		{name: "complaint with nothing in the knowledge base is acknowledged, not brushed off",
			req:      bot.Request{Query: "this is terrible", Lang: "en"},
			contains: []string{"sorry to hear that", "Tell me what happened"},
			absent:   []string{"ask another way", bot.NoAnswerMarker}},
		{name: "complaint zh",
			req:      bot.Request{Query: "太差了", Lang: "zh"},
			contains: []string{"很抱歉", "告诉我发生了什么"},
			absent:   []string{"换个说法"}},
		{name: "unknown en",
			req:      bot.Request{Query: "Who won the football match yesterday?", Lang: "en", Passages: passagesEN},
			contains: []string{bot.NoAnswerMarker, "I don't know", "/help"},
			absent:   []string{"(from"}},
		{name: "unknown without passages",
			req:      bot.Request{Query: "What's your refund policy?", Lang: "en"},
			contains: []string{"I don't know", "/help"}},
		{name: "unknown zh",
			req:      bot.Request{Query: "明天天气怎么样？", Lang: "zh", Passages: passagesZH},
			contains: []string{"不知道", "/help"},
			absent:   []string{"来源"}},
		{name: "the row of the table that states a duration, under its heading",
			req: bot.Request{Query: "how long does shipping take?", Lang: "en", Passages: []bot.Passage{
				{Source: "shipping.md", Title: "Shipping", Heading: "Tracking your order", Text: "Tracking can take a while to show the first scan. Message us if it hasn't moved."},
				{Source: "shipping.md", Title: "Shipping", Heading: "Shipping times and costs", Text: "| Destination | Time | Cost |\n|---|---|---|\n| United States | 2 to 5 business days | $5.95 |\n| Canada | 5 to 9 business days | $12.95 |"},
			}},
			contains: []string{"United States: time 2 to 5 business days", "(from Shipping)"},
			absent:   []string{"Tracking", "|"}},
		{name: "the table row of the region, not the prose naming the country",
			req: bot.Request{Query: "how long does shipping to Australia take?", Lang: "en", Passages: []bot.Passage{
				{Source: "shipping.md", Title: "Shipping", Heading: "Where we ship", Text: "We ship to the United States, Canada, Australia and Japan. We can't ship to PO boxes outside the United States."},
				{Source: "shipping.md", Title: "Shipping", Heading: "Shipping times and costs", Text: "| Destination | Typical time | Cost |\n|---|---|---|\n| United States | 2 to 5 business days | $5.95 |\n| Asia-Pacific | 3 to 6 business days | $19.95 |"},
			}},
			contains: []string{"Asia-Pacific: typical time 3 to 6 business days; cost $19.95.", "(from Shipping)"},
			absent:   []string{"We ship to", "|"}},
		{name: "the table row of the region, asked in Chinese, keeps its spaces",
			req: bot.Request{Query: "寄到德国要几天？", Lang: "zh", Passages: []bot.Passage{
				{Source: "shipping.md", Title: "Shipping", Heading: "Shipping times and costs", Text: "| Destination | Typical time | Cost |\n|---|---|---|\n| United States | 2 to 5 business days | $5.95 |\n| UK and EU | 5 to 10 business days | $14.95 |\n\nTimes are estimates. They start when the parcel leaves us."},
			}},
			contains: []string{"UK and EU: typical time 5 to 10 business days", "（来源：Shipping）"},
			absent:   []string{"United States", "|"}},
		{name: "a paraphrase through the thesaurus",
			req: bot.Request{Query: "how long should cold brew steep?", Lang: "en", Passages: []bot.Passage{
				{Source: "brewing.md", Title: "Brewing guide", Heading: "Cold brew", Text: "Mix coarse coffee with cold water and leave it in the fridge for 14 to 18 hours. Strain through a paper filter."},
			}},
			contains: []string{"14 to 18 hours"},
			absent:   []string{"Strain"}},
		{name: "the price with the plan it prices",
			req: bot.Request{Query: "how much is the House Blend?", Lang: "en", Passages: []bot.Passage{
				{Source: "plans.md", Heading: "Plans", Text: "- **Roaster's Choice**: a new coffee every time. From $17 per bag.\n- **House Blend**: the same coffee every time. From $15 per bag."},
			}},
			contains: []string{"From $15 per bag."},
			absent:   []string{"$17"}},
		{name: "a price comes with the plan it prices",
			req: bot.Request{Query: "what does the House Blend plan cost?", Lang: "en", Passages: []bot.Passage{
				{Source: "plans.md", Title: "Subscriptions", Heading: "Plans", Text: "- **Roaster's Choice**: a new single-origin coffee every delivery. From $17 per bag.\n- **House Blend**: our Daybreak blend, the same coffee every time. From $15 per bag."},
			}},
			contains: []string{"House Blend: our Daybreak blend, the same coffee every time. From $15 per bag."},
			absent:   []string{"$17"}},
		{name: "query from messages",
			req:      bot.Request{Messages: []bot.ChatMessage{{Role: bot.RoleSystem, Content: "sys"}, {Role: bot.RoleUser, Content: "express delivery cost?"}}, Passages: passagesEN},
			contains: []string{"Express delivery costs $9.99"}},
	}
	o := NewOffline()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Purpose = bot.PurposeChat
			tt.req.Persona = persona
			resp, err := o.Complete(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !resp.Offline || resp.Model != OfflineModel || resp.Usage.CompletionTokens == 0 {
				t.Errorf("resp = %+v", resp)
			}
			for _, s := range tt.contains {
				if !strings.Contains(resp.Text, s) {
					t.Errorf("answer %q lacks %q", resp.Text, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(resp.Text, s) {
					t.Errorf("answer %q has %q", resp.Text, s)
				}
			}
		})
	}
}

// An English sentence quoted after another keeps its space in a Chinese
// answer; Chinese sentences join without one.
func TestBetween(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"It lasts 18 hours.", "It keeps a week.", " "},
		{"运费 19.95 美元。", "订阅免运费。", ""},
		{"运费 19.95 美元。", "Free over $40.", " "},
		{"It costs $5.", "订阅免运费。", " "},
	} {
		if got := between(tc.a, tc.b); got != tc.want {
			t.Errorf("between(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestOfflineStream(t *testing.T) {
	o := NewOffline()
	for _, q := range []string{"How long does shipping take?", "咖啡豆可以退货吗？"} {
		req := bot.Request{Purpose: bot.PurposeChat, Query: q, Passages: append(passagesEN, passagesZH...), Persona: persona}
		want, err := o.Complete(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		s, err := o.Stream(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		text, err := drain(t, s)
		if err != nil {
			t.Fatal(err)
		}
		if text != want.Text {
			t.Errorf("streamed %q, want %q", text, want.Text)
		}
		if s.Usage() != want.Usage || s.(interface{ Model() string }).Model() != OfflineModel {
			t.Errorf("usage %+v, want %+v", s.Usage(), want.Usage)
		}
		if _, err := s.Recv(); err != io.EOF {
			t.Errorf("after end: %v", err)
		}
	}
	if got := splitWords("Hi there, 你好 ok"); strings.Join(got, "|") != "Hi |there, |你|好 |ok" {
		t.Errorf("splitWords = %q", got)
	}
}

func TestOfflineSummary(t *testing.T) {
	turns := []bot.Turn{
		{Role: bot.RoleUser, Name: "Ann", Text: "Hi!"},
		{Role: bot.RoleUser, Name: "Ann", Text: "My order 1042 arrived with a broken grinder. Can I get a replacement grinder?"},
		{Role: bot.RoleAssistant, Name: "Bean", Text: "Sorry to hear that. We will send a replacement grinder within 3 days."},
		{Role: bot.RoleUser, Name: "Ann", Text: "ok"},
		{Role: bot.RoleUser, Name: "Ann", Text: "Thanks."},
	}
	prev := "Ann: Ann asked about decaf beans."
	req := bot.Request{Purpose: bot.PurposeSummary, Turns: turns, Summary: prev}
	resp, err := NewOffline().Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"decaf", "Ann: My order 1042 arrived with a broken grinder.", "Bean: ", "replacement grinder"} {
		if !strings.Contains(resp.Text, s) {
			t.Errorf("summary %q lacks %q", resp.Text, s)
		}
	}
	if strings.Contains(resp.Text, "Ann: ok") {
		t.Errorf("summary %q keeps filler", resp.Text)
	}
	if strings.Index(resp.Text, "decaf") > strings.Index(resp.Text, "grinder") {
		t.Errorf("summary %q is not in order", resp.Text)
	}

	// Bounded however long the conversation.
	var long []bot.Turn
	for range 500 {
		long = append(long, turns...)
	}
	o := NewOffline(WithSummaryRunes(300))
	for _, p := range []bot.Purpose{bot.PurposeSummary, bot.PurposeDigest} {
		resp, err = o.Complete(context.Background(), bot.Request{Purpose: p, Turns: long})
		if err != nil {
			t.Fatal(err)
		}
		if n := len([]rune(resp.Text)); n == 0 || n > 300 {
			t.Errorf("%s of 2500 turns: %d runes", p, n)
		}
	}
}

func TestOfflineUnsupported(t *testing.T) {
	for _, p := range []bot.Purpose{bot.PurposeModeration, bot.PurposeSentiment, bot.PurposePost} {
		t.Run(string(p), func(t *testing.T) {
			o := NewOffline()
			_, err := o.Complete(context.Background(), bot.Request{Purpose: p, Query: "x"})
			if !errors.Is(err, bot.ErrLLMUnavailable) || !strings.Contains(err.Error(), "offline provider: no model for") {
				t.Errorf("Complete: %v", err)
			}
			if _, err := o.Stream(context.Background(), bot.Request{Purpose: p}); !errors.Is(err, bot.ErrLLMUnavailable) {
				t.Errorf("Stream: %v", err)
			}
		})
	}
}

func BenchmarkOfflineChat(b *testing.B) {
	o := NewOffline()
	req := bot.Request{Purpose: bot.PurposeChat, Query: "How long does shipping take?", Passages: passagesEN, Persona: persona}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Complete(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
