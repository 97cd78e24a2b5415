package llm

import (
	"strings"
	"sync"
	"testing"

	"github.com/chorusbot/chorus/bot"
)

// approxParagraphs are the texts bot.ApproxTokens is measured on.
var approxParagraphs = []struct {
	name, lang, text string
}{
	{"en support", "en", "Hi! I ordered the Ethiopia Yirgacheffe beans last Tuesday and the tracking page still says the parcel hasn't left the warehouse. Could you check what's going on? My order number is 48213, and I'd really like it before the weekend."},
	{"en policy", "en", "Standard shipping takes three to five business days within the continental United States. Orders over fifty dollars ship free; express delivery is available at checkout for an extra $9.99 and usually arrives the next business day."},
	{"en chatty", "en", "lol that's awesome 😂 can't wait to try the new cold brew!!! btw is the oat-milk version coming back anytime soon? asking for a friend... who is me."},
	{"en technical", "en", "The webhook retries with exponential back-off: 1s, 2s, 4s, up to 64s, then marks the endpoint unhealthy. Use the X-Signature header (HMAC-SHA256) to verify payloads."},
	{"zh support", "zh", "你好，我上周二订购了埃塞俄比亚耶加雪菲咖啡豆，但物流页面一直显示包裹还没有出库。能帮我查一下是什么情况吗？我的订单号是48213，希望周末前能收到。"},
	{"zh policy", "zh", "标准配送在中国大陆需要三到五个工作日。订单满五十元免运费；结账时可以选择加急配送，额外支付九元九角，通常第二个工作日送达。"},
	{"zh chatty", "zh", "哈哈太棒了！新出的冷萃什么时候上架呀？燕麦奶版本还会回来吗？我朋友一直在问，其实就是我自己想喝。"},
	{"zh mixed", "zh", "我们的App支持iOS和Android，登录后在“我的订单”里可以看到物流信息。如果遇到问题，请发邮件到support，或者在Discord频道里@管理员。"},
}

// The relative error TestApproxTokensError allows bot.ApproxTokens against
// o200k_base. It is asymmetric on purpose: overcounting keeps prompts
// under the model's limit, undercounting could overflow it. Measured on
// approxParagraphs: +6% to +52% in English, +25% to +55% in Chinese.
const (
	approxUnder = -0.10
	approxOver  = 0.60
)

func TestApproxTokensError(t *testing.T) {
	tc, err := NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range approxParagraphs {
		t.Run(p.name, func(t *testing.T) {
			exact := tc.Count(p.text)
			approx := bot.ApproxTokens(p.text)
			rel := float64(approx-exact) / float64(exact)
			t.Logf("%s: exact %d, approx %d, error %+.1f%%", p.lang, exact, approx, 100*rel)
			if rel < approxUnder || rel > approxOver {
				t.Errorf("ApproxTokens off by %+.1f%% (exact %d, approx %d), bound [%+.0f%%, %+.0f%%]", 100*rel, exact, approx, 100*approxUnder, 100*approxOver)
			}
		})
	}
}

func TestTokenCounter(t *testing.T) {
	tc, err := NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{"<|endoftext|>", 7}, // special tokens are text here, never control
	}
	for _, tt := range tests {
		if got := tc.Count(tt.in); got != tt.want {
			t.Errorf("Count(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	// One counter serves the whole engine concurrently.
	long := strings.Repeat("Chorus answers followers. 你好，世界。", 50)
	want := tc.Count(long)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := tc.Count(long); got != want {
				t.Errorf("concurrent Count = %d, want %d", got, want)
			}
		}()
	}
	wg.Wait()
	if want < 500 || want > 1500 {
		t.Errorf("Count = %d for 50 x 12 words and characters", want)
	}
}

func BenchmarkTokenCount(b *testing.B) {
	tc, err := NewTokenCounter()
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct{ name, text string }{
		{"en", approxParagraphs[0].text},
		{"zh", approxParagraphs[4].text},
	} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.text)))
			b.ReportAllocs()
			for b.Loop() {
				tc.Count(p.text)
			}
		})
	}
	b.Run("approx-en", func(b *testing.B) {
		b.SetBytes(int64(len(approxParagraphs[0].text)))
		b.ReportAllocs()
		for b.Loop() {
			bot.ApproxTokens(approxParagraphs[0].text)
		}
	})
}
