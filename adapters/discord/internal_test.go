package discord

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/chorusbot/chorus/bot"
)

func TestMapErrRateLimits(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"discordgo rate limit error", &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{
			TooManyRequests: &discordgo.TooManyRequests{RetryAfter: 1500 * time.Millisecond}, URL: "x"}}, 1500 * time.Millisecond},
		{"REST 429 with body", &discordgo.RESTError{Response: &http.Response{StatusCode: 429, Header: http.Header{}},
			ResponseBody: []byte(`{"retry_after":0.25}`)}, 250 * time.Millisecond},
		{"REST 429 with header", &discordgo.RESTError{Response: &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"2"}}},
			ResponseBody: []byte(`nope`)}, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rl *bot.RateLimitError
			if err := mapErr("edit", tc.err); !errors.As(err, &rl) || rl.RetryAfter != tc.want {
				t.Fatalf("mapErr = %v, want a RateLimitError of %s", err, tc.want)
			}
		})
	}
	other := &discordgo.RESTError{Response: &http.Response{StatusCode: 403, Status: "403 Forbidden"}, ResponseBody: []byte(`{}`)}
	var rl *bot.RateLimitError
	if err := mapErr("ban", other); errors.As(err, &rl) || !errors.Is(err, other) {
		t.Fatalf("a 403 must stay a wrapped RESTError: %v", err)
	}
}

func TestMapErrRedactsTokens(t *testing.T) {
	inner := errors.New("connection refused")
	err := mapErr("follow up", &url.Error{Op: "Post", URL: "https://discord.com/api/v10/webhooks/200/SECRET-TOKEN?wait=true", Err: inner})
	if strings.Contains(err.Error(), "SECRET") || !errors.Is(err, inner) {
		t.Fatalf("mapErr = %v", err)
	}
	err = mapErr("ack", &url.Error{Op: "Post", URL: "https://x/api/v10/interactions/1/SECRET/callback", Err: inner})
	if strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("mapErr = %v", err)
	}
}

func TestApplicationCommands(t *testing.T) {
	specs := []bot.CommandSpec{
		{Name: "ask", Usage: "QUESTION", Help: map[string]string{"en": "ask a question", "zh": "提问"}},
		{Name: "stats", Role: bot.RoleManager, Usage: "[hours]", Help: map[string]string{"en": "numbers"}},
		{Name: "persona", Role: bot.RoleOwner},
		{Name: "Bad Name"},
		{Name: "secret", Hidden: true},
	}
	got := applicationCommands(specs)
	if len(got) != 3 {
		t.Fatalf("commands = %d, want 3 (bad and hidden skipped)", len(got))
	}
	ask, stats, persona := got[0], got[1], got[2]
	if ask.DefaultMemberPermissions != nil || len(ask.Options) != 1 || !ask.Options[0].Required || ask.Options[0].Name != ArgsOption {
		t.Errorf("ask = %+v", ask)
	}
	if ask.DescriptionLocalizations == nil || (*ask.DescriptionLocalizations)[discordgo.ChineseCN] != "提问" {
		t.Errorf("ask localizations = %v", ask.DescriptionLocalizations)
	}
	if stats.DefaultMemberPermissions == nil || *stats.DefaultMemberPermissions != ManagerPermissions || stats.Options[0].Required {
		t.Errorf("stats = %+v", stats)
	}
	if persona.DefaultMemberPermissions == nil || len(persona.Options) != 0 || persona.Description == "" {
		t.Errorf("persona = %+v", persona)
	}
}

// TestValidCommandName holds the hand check to the pattern it replaces.
func TestValidCommandName(t *testing.T) {
	re := regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)
	for _, name := range []string{"", "ask", "kb-search", "a_b", "Ask", "bad name", "x1", "提问", "é", "ⅻ", "٣",
		strings.Repeat("a", 32), strings.Repeat("a", 33), strings.Repeat("é", 32), "a\xffb", "a.b", "a/b", "ǅ", "ß"} {
		if got, want := validCommandName(name), re.MatchString(name); got != want {
			t.Errorf("validCommandName(%q) = %v, the pattern says %v", name, got, want)
		}
	}
}

func TestInteractionEncoding(t *testing.T) {
	s := encodeInteraction("app", "123", "a:b.c")
	ix, ok := decodeInteraction(s)
	if !ok || ix.AppID != "app" || ix.ID != "123" || ix.Token != "a:b.c" {
		t.Fatalf("decode(%q) = %+v %v", s, ix, ok)
	}
	for _, bad := range []string{"", "app", "app:1", ":1:tok", "app:1:"} {
		if _, ok := decodeInteraction(bad); ok {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
}

func TestEndpointsGuard(t *testing.T) {
	if err := acquireEndpoints("http://127.0.0.1:1/api/v10"); err != nil {
		t.Fatal(err)
	}
	if discordgo.EndpointChannelMessages("7") != "http://127.0.0.1:1/api/v10/channels/7/messages" || discordgo.APIVersion != "10" {
		t.Errorf("endpoints not moved: %s, v%s", discordgo.EndpointChannelMessages("7"), discordgo.APIVersion)
	}
	if got := discordgo.EndpointFollowupMessage("app", "tok"); got != "http://127.0.0.1:1/api/v10/webhooks/app/tok" {
		t.Errorf("follow-up endpoint = %s", got)
	}
	if err := acquireEndpoints("http://127.0.0.1:2/api/v10"); !errors.Is(err, ErrEndpointConflict) {
		t.Errorf("second base while running: %v, want ErrEndpointConflict", err)
	}
	if err := acquireEndpoints("http://127.0.0.1:1/api/v10"); err != nil {
		t.Errorf("same base twice: %v", err)
	}
	releaseEndpoints()
	releaseEndpoints()
	if err := acquireEndpoints("not a url"); err == nil {
		t.Error("a relative URL was accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	h := bot.HandlerFunc(nil)
	for _, c := range []Config{{}, {Token: "Bot "}, {Token: "x", ShardID: 2, ShardCount: 2}, {Token: "x", ShardCount: -1}} {
		if _, err := New(c, h); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	a, err := New(Config{Token: "x"}, h)
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.APIURL != DefaultAPIURL || a.cfg.GatewayURL != DefaultGatewayURL || a.cfg.Token != "Bot x" {
		t.Errorf("defaults = %+v", a.cfg)
	}
	if l := a.Limits(); l.MaxLen != 2000 || !l.Stream || l.EditEvery != DefaultEditEvery || l.Markup != bot.MarkupMarkdown {
		t.Errorf("limits = %+v", l)
	}
}
