package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

func TestAspectText(t *testing.T) {
	bean := []string{"bean there", "豆子咖啡"}
	others := [][]string{{"globex"}}
	for _, tc := range []struct{ text, want string }{
		{"Bean There's delivery is awful, yours is great", "bean there's delivery is awful"},
		{"Your app is slow but Bean There is amazing", "bean there is amazing"},
		{"I tried Bean There yesterday. They never answered my emails, and the coffee was cold! Love you guys though.",
			"i tried bean there yesterday. they never answered my emails, and the coffee was cold"},
		{"Globex is fine, Bean There is a joke", "bean there is a joke"},
		{"豆子咖啡的外卖太慢了，你们的很好吃", "豆子咖啡的外卖太慢了"},
		{"你们的咖啡太难喝了，豆子咖啡的好喝多了", "豆子咖啡的好喝多了"},
		{"nothing about it here", "nothing about it here"},
	} {
		if got := aspectText(tc.text, bean, others); got != tc.want {
			t.Errorf("aspectText(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestCompetitorAspectSentiment: with the shipped classifier, a mention
// counts with the sentiment of what is said about the competitor, in
// English and in Chinese, so three complaints about a competitor that
// praise the brand are three negative mentions.
func TestCompetitorAspectSentiment(t *testing.T) {
	cfg := Config{Competitors: []Competitor{{Name: "Bean There", Aliases: []string{"豆子咖啡"}}}}
	r := newRig(t, cfg)
	at := t0.Add(time.Hour)
	msgs := []struct {
		text string
		want Label
	}{
		{"Bean There's delivery is awful, yours is great", Negative},
		{"Bean There lost my order twice, you guys are the best", Negative},
		{"豆子咖啡的外卖太慢了，还洒了一半，你们的很好吃", Negative},
		{"Your app is slow but Bean There is amazing, love them", Positive},
		{"你们的咖啡太难喝了，豆子咖啡的好喝多了，非常满意", Positive},
	}
	c, err := NewOfflineClassifier(Config{}.withDefaults().NeutralBand)
	if err != nil {
		t.Fatal(err)
	}
	words := r.a.comps[0].words
	for i, m := range msgs {
		if got := c.Classify(aspectText(m.text, words, nil)).Label; got != m.want {
			t.Errorf("%q: aspect %q is %v, want %v", m.text, aspectText(m.text, words, nil), got, m.want)
		}
		r.send("c1", string(rune('a'+i)), bot.RoleFollower, at, m.text)
	}
	cs, err := r.a.Competitors(context.Background(), 24*time.Hour, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Mentions != 5 || cs[0].Counts != [3]int{3, 0, 2} {
		t.Errorf("competitors %+v, want 5 mentions: 3 negative, 2 positive", cs)
	}
}
