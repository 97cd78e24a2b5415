package analytics

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

var catalogEN = map[string]string{
	"analytics.bad_period":       "I don't understand the period {period}. Use something like 24h, 7d or 4w (1h to 90d).",
	"analytics.stats_no_members": "New members: none joined in this period.",
	"analytics.stats_members":    "New members: {joined} joined; 7-day activation {rate} ({active} wrote within 7 days of joining, {waiting} joined less than 7 days ago and have not written yet).",
	"analytics.stats":            "Last {period}: {messages} {messages|message|messages} from {users} active {users|user|users} ({per} per user; commands not counted); {returning} returning, {new} new.\nDAU {dau} · WAU {wau} · MAU {mau}\nMessages to the bot (addressed to it, and /ask; greetings count too): {replies}; answered {ok} ({rate}){rest}. Median time to the first words of an answer: {median}.\nConversations started by the brand: {started}, answered: {answered}.",
	"analytics.stats_rest":       "; {n} ended with an apology or a limit notice",
	"analytics.stats_votes":      "Followers' ratings of answers: {share} positive ({up} 👍, {down} 👎).",
	"analytics.stats_no_votes":   "Followers' ratings of answers: none yet.",
	"analytics.sentiment":        "Sentiment, last {period}: {messages} {messages|message|messages} — negative {neg}, neutral {neu}, positive {pos}; mean score {mean}.",
	"analytics.sentiment_chats":  "Most negative messages in: {chats}",
	"analytics.samples":          "Recent negative messages:",
	"analytics.private_chat":     "a private chat",
	"analytics.no_data":          "No messages in the last {period}.",
	"analytics.trends":           "Trending in the last {period}:",
	"analytics.trends_none":      "Nothing stands out in the last {period}.",
	"analytics.competitors":      "Competitor mentions, last {period}:",
	"analytics.competitors_none": "No competitors are configured.",
	"analytics.competitor_line":  "{name}: {mentions} {mentions|mention|mentions} — negative {neg}, neutral {neu}, positive {pos}; mean {mean}",
	"analytics.alert":            "⚠️ Negative surge in {chat}: {share} of the last {count} messages are negative (usually {baseline}).",
	"analytics.alert_themes":     "Themes: {themes}",
	"analytics.chart_sentiment":  "Sentiment share over time",
	"analytics.chart_users":      "Active users over time",
}

var catalogZH = map[string]string{
	"analytics.bad_period":       "无法识别时间段 {period}。请使用 24h、7d 或 4w 这样的格式（1 小时到 90 天）。",
	"analytics.stats_no_members": "新成员：这段时间没有人加入。",
	"analytics.stats_members":    "新成员：{joined} 人加入；7 天激活率 {rate}（{active} 人在加入后 7 天内发过言，{waiting} 人加入不满 7 天且尚未发言）。",
	"analytics.stats":            "最近 {period}：{users} 位活跃用户发送了 {messages} 条消息（人均 {per} 条，不含命令）；回访 {returning} 人，新用户 {new} 人。\n日活 {dau} · 周活 {wau} · 月活 {mau}\n发给机器人的消息（@它或回复它的消息和 /ask，问候也计入）：{replies} 条，已回答 {ok} 条（{rate}）{rest}。回答首句出现的中位时间：{median}。\n品牌发起的对话：{started}，获得回应：{answered}。",
	"analytics.stats_rest":       "，{n} 个以致歉或限额提示结束",
	"analytics.stats_votes":      "粉丝对回答的评价：{share} 为好评（👍 {up}，👎 {down}）。",
	"analytics.stats_no_votes":   "粉丝对回答的评价：暂无。",
	"analytics.sentiment":        "最近 {period} 的情绪：{messages} 条消息 — 负面 {neg}，中性 {neu}，正面 {pos}；平均分 {mean}。",
	"analytics.sentiment_chats":  "负面消息最多的会话：{chats}",
	"analytics.samples":          "最近的负面消息：",
	"analytics.private_chat":     "一个私聊",
	"analytics.no_data":          "最近 {period} 没有消息。",
	"analytics.trends":           "最近 {period} 的热门话题：",
	"analytics.trends_none":      "最近 {period} 没有突出的话题。",
	"analytics.competitors":      "最近 {period} 竞品提及：",
	"analytics.competitors_none": "尚未配置竞品。",
	"analytics.competitor_line":  "{name}：提及 {mentions} 次 — 负面 {neg}，中性 {neu}，正面 {pos}；平均 {mean}",
	"analytics.alert":            "⚠️ {chat} 负面情绪激增：最近 {count} 条消息中 {share} 为负面（平时约 {baseline}）。",
	"analytics.alert_themes":     "主题：{themes}",
	"analytics.chart_sentiment":  "情绪占比趋势",
	"analytics.chart_users":      "活跃用户趋势",
}

// Plugin is what analytics adds to the engine: scoring every message (an
// inspector), the engagement figures (an observer), /stats, /sentiment,
// /trends and /competitors for managers with their messages, its Keeper
// (samples and per-user records), the labels of its events, and the
// periodic flush of its rollups.
func (a *Analytics) Plugin() bot.Plugin {
	h := func(en, zh string) map[string]string { return map[string]string{"en": en, "zh": zh} }
	specs := []bot.CommandSpec{
		{Name: "stats", Usage: "[period]", Help: h("engagement figures and active users (default 24h)", "互动数据与活跃用户（默认 24 小时）"), Run: a.cmdStats},
		{Name: "sentiment", Usage: "[period]", Help: h("community sentiment with a chart (default 24h)", "社区情绪及图表（默认 24 小时）"), Run: a.cmdSentiment},
		{Name: "trends", Usage: "[period]", Help: h("trending topics (default 24h)", "热门话题（默认 24 小时）"), Run: a.cmdTrends},
		{Name: "competitors", Usage: "[period]", Help: h("competitor mentions and their sentiment (default 24h)", "竞品提及及其情绪（默认 24 小时）"), Run: a.cmdCompetitors},
	}
	for i := range specs {
		specs[i].Role = bot.RoleManager
	}
	return bot.Plugin{Name: "analytics", Inspector: a, Observer: a, Commands: specs,
		Catalog: map[string]map[string]string{"en": catalogEN, "zh": catalogZH}, Keeper: a, Labels: Labels(), Run: a.Run}
}

// period parses the command's argument, replying with the usage when it is
// bad.
func period(ctx context.Context, env *bot.Env, c *bot.Command) (time.Duration, bool, error) {
	arg := ""
	if f := c.Fields(); len(f) > 0 {
		arg = f[0]
	}
	d, err := ParsePeriod(arg)
	if err != nil {
		return 0, false, env.Reply(ctx, env.T("analytics.bad_period", "period", arg))
	}
	return d, true, nil
}

func fmtPeriod(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%dh", d/time.Hour)
}

// FormatScore shows a mean sentiment score with its sign; one that rounds
// to zero is 0.00, never -0.00 or +0.00.
func FormatScore(v float64) string {
	if math.Abs(v) < 0.005 {
		return "0.00"
	}
	return fmt.Sprintf("%+.2f", v)
}

// periodWords is a period in words, for a chart's title.
func periodWords(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return fmt.Sprintf("%d hours", d/time.Hour)
}

// stepName names a chart's step in its title (the charts are in English).
func stepName(step time.Duration) string {
	if step >= 24*time.Hour {
		return "day"
	}
	return "hour"
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func (a *Analytics) cmdStats(ctx context.Context, env *bot.Env, c *bot.Command) error {
	d, ok, err := period(ctx, env, c)
	if !ok {
		return err
	}
	st, err := a.Engagement(ctx, d, env.View)
	if err != nil {
		return err
	}
	rest := ""
	if n := st.Replies - st.RepliesOK; n > 0 {
		rest = env.T("analytics.stats_rest", "n", n)
	}
	text := env.T("analytics.stats", "period", fmtPeriod(d), "messages", st.Messages, "users", st.ActiveUsers,
		"per", fmt.Sprintf("%.1f", st.MessagesPerUser), "returning", st.ReturningUsers, "new", st.NewUsers,
		"dau", st.DAU, "wau", st.WAU, "mau", st.MAU, "ok", st.RepliesOK, "replies", st.Replies,
		"rate", pct(st.ReplyRate), "rest", rest, "median", fmtDur(st.MedianFirstReply),
		"started", st.BrandStarted, "answered", st.BrandAnswered)
	if a.members != nil {
		sp := a.spanOf(d)
		act, err := a.members.Activation(ctx, sp.From, sp.To, env.View)
		if err != nil {
			return err
		}
		if act.Joined > 0 {
			rate := pct(float64(act.Active) / float64(act.Joined))
			text += "\n" + env.T("analytics.stats_members", "joined", act.Joined, "active", act.Active, "rate", rate, "waiting", act.Waiting)
		} else {
			// No activation figure of nobody: say so plainly.
			text += "\n" + env.T("analytics.stats_no_members")
		}
	}
	if st.VotesUp+st.VotesDown > 0 {
		text += "\n" + env.T("analytics.stats_votes", "share", pct(st.PositiveShare), "up", st.VotesUp, "down", st.VotesDown)
	} else {
		text += "\n" + env.T("analytics.stats_no_votes")
	}
	png, err := UsersChart(st.Series, bucketOf(d), "Active users per "+stepName(bucketOf(d))+", last "+periodWords(d))
	if err != nil {
		return err
	}
	_, err = env.Send(ctx, bot.Out{Text: text, Attachments: []bot.Attachment{{Name: "active-users.png", MIME: MIMEPNG, Data: png}}})
	return err
}

func (a *Analytics) cmdSentiment(ctx context.Context, env *bot.Env, c *bot.Command) error {
	d, ok, err := period(ctx, env, c)
	if !ok {
		return err
	}
	s, err := a.Sentiment(ctx, d, env.View)
	if err != nil {
		return err
	}
	if s.Messages == 0 {
		return env.Reply(ctx, env.T("analytics.no_data", "period", fmtPeriod(d)))
	}
	share := func(n int) string { return fmt.Sprintf("%d (%s)", n, pct(float64(n)/float64(s.Messages))) }
	var b strings.Builder
	b.WriteString(env.T("analytics.sentiment", "period", fmtPeriod(d), "messages", s.Messages,
		"neg", share(s.Counts[Negative]), "neu", share(s.Counts[Neutral]), "pos", share(s.Counts[Positive]),
		"mean", FormatScore(s.Mean)))
	if len(s.Chats) > 0 {
		parts := make([]string, len(s.Chats))
		for i, ch := range s.Chats {
			name := ch.Chat
			switch {
			case ch.Private:
				name = env.T("analytics.private_chat")
			case ch.Title != "":
				name = ch.Title
			}
			parts[i] = fmt.Sprintf("%s (%d/%d)", name, ch.Negatives, ch.Messages)
		}
		b.WriteString("\n" + env.T("analytics.sentiment_chats", "chats", strings.Join(parts, ", ")))
	}
	if len(s.Samples) > 0 {
		b.WriteString("\n" + env.T("analytics.samples"))
		for _, x := range s.Samples {
			b.WriteString("\n• " + env.Quote(x.Name, x.Text, maxSampleRunes))
		}
	}
	png, err := SentimentChart(s.Series, bucketOf(d), "Sentiment of the messages per "+stepName(bucketOf(d))+", last "+periodWords(d))
	if err != nil {
		return err
	}
	_, err = env.Send(ctx, bot.Out{Text: b.String(), Attachments: []bot.Attachment{{Name: "sentiment.png", MIME: MIMEPNG, Data: png}}})
	return err
}

func (a *Analytics) cmdTrends(ctx context.Context, env *bot.Env, c *bot.Command) error {
	d, ok, err := period(ctx, env, c)
	if !ok {
		return err
	}
	ts, err := a.Trends(ctx, d, 10, env.View)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return env.Reply(ctx, env.T("analytics.trends_none", "period", fmtPeriod(d)))
	}
	var b strings.Builder
	b.WriteString(env.T("analytics.trends", "period", fmtPeriod(d)))
	for i, t := range ts {
		fmt.Fprintf(&b, "\n%d. %s — %d (×%.1f)", i+1, t.Term, t.Count, float64(t.Count+1)/(t.Baseline+1))
	}
	return env.Reply(ctx, b.String())
}

func (a *Analytics) cmdCompetitors(ctx context.Context, env *bot.Env, c *bot.Command) error {
	d, ok, err := period(ctx, env, c)
	if !ok {
		return err
	}
	if len(a.cfg.Competitors) == 0 {
		return env.Reply(ctx, env.T("analytics.competitors_none"))
	}
	cs, err := a.Competitors(ctx, d, env.View)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(env.T("analytics.competitors", "period", fmtPeriod(d)))
	for _, x := range cs {
		b.WriteString("\n" + env.T("analytics.competitor_line", "name", x.Name, "mentions", x.Mentions,
			"neg", x.Counts[Negative], "neu", x.Counts[Neutral], "pos", x.Counts[Positive], "mean", FormatScore(x.Mean)))
	}
	return env.Reply(ctx, b.String())
}
