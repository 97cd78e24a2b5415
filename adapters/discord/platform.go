package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/chorusbot/chorus/bot"
)

// Discord's own limits.
const (
	// MaxMessageLen is the longest message content Discord accepts.
	MaxMessageLen = 2000
	// DefaultEditEvery paces edits of one message: Discord allows about
	// five message edits per five seconds per channel.
	DefaultEditEvery = 1200 * time.Millisecond
	// maxTimeout is the longest timeout Discord accepts (28 days).
	maxTimeout = 28 * 24 * time.Hour
)

// interactionTTL is how long Discord accepts follow-ups on an interaction
// token.
const interactionTTL = 15 * time.Minute

// ixState tracks whether the deferred response of an interaction has been
// completed: the first message of the answer edits it, later ones are
// follow-ups.
type ixState struct {
	mu         sync.Mutex
	completed  bool
	originalID string
	expires    time.Time
}

// encodeInteraction packs what replying to an interaction needs into
// bot.Message.Interaction: "appID:interactionID:token".
func encodeInteraction(appID, id, token string) string {
	return appID + ":" + id + ":" + token
}

func decodeInteraction(s string) (*discordgo.Interaction, bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return nil, false
	}
	return &discordgo.Interaction{AppID: parts[0], ID: parts[1], Token: parts[2]}, true
}

func (a *Adapter) trackInteraction(key string) *ixState {
	a.ixMu.Lock()
	defer a.ixMu.Unlock()
	now := time.Now()
	if st, ok := a.ix[key]; ok {
		return st
	}
	if len(a.ix) >= 1024 {
		for k, st := range a.ix {
			if now.After(st.expires) {
				delete(a.ix, k)
			}
		}
	}
	st := &ixState{expires: now.Add(interactionTTL)}
	a.ix[key] = st
	return st
}

// noPings allows no mention at all to notify anyone: not @everyone, @here,
// roles or users written in the text. Only the author of the message
// replied to is notified, as Discord does for replies.
func noPings(reply bool) *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, RepliedUser: reply}
}

func files(atts []bot.Attachment) []*discordgo.File {
	if len(atts) == 0 {
		return nil
	}
	out := make([]*discordgo.File, 0, len(atts))
	for _, at := range atts {
		out = append(out, &discordgo.File{Name: at.Name, ContentType: at.MIME, Reader: bytes.NewReader(at.Data)})
	}
	return out
}

// feedbackComponents is the row of 👍/👎 buttons an answer's final
// message carries (bot.Out.Feedback), nil for any other message.
func feedbackComponents(out bot.Out) []discordgo.MessageComponent {
	if !out.Final || out.Feedback == "" {
		return nil
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Emoji: &discordgo.ComponentEmoji{Name: "👍"}, Style: discordgo.SecondaryButton, CustomID: bot.FeedbackData(bot.RatingUp, out.Feedback)},
		discordgo.Button{Emoji: &discordgo.ComponentEmoji{Name: "👎"}, Style: discordgo.SecondaryButton, CustomID: bot.FeedbackData(bot.RatingDown, out.Feedback)},
	}}}
}

// feedbackEdit is feedbackComponents for an edit: nil leaves a message's
// components as they are.
func feedbackEdit(out bot.Out) *[]discordgo.MessageComponent {
	if c := feedbackComponents(out); c != nil {
		return &c
	}
	return nil
}

// Send implements bot.Platform. A message answering a slash command
// completes the interaction's deferred response, or follows it up.
func (a *Adapter) Send(ctx context.Context, out bot.Out) (string, error) {
	s, err := a.session()
	if err != nil {
		return "", err
	}
	opt := discordgo.WithContext(ctx)
	if ix, ok := decodeInteraction(out.Interaction); ok {
		st := a.trackInteraction(out.Interaction)
		st.mu.Lock()
		defer st.mu.Unlock()
		if !st.completed {
			content := out.Text
			msg, err := s.InteractionResponseEdit(ix, &discordgo.WebhookEdit{Content: &content, Files: files(out.Attachments),
				AllowedMentions: noPings(false), Components: feedbackEdit(out)}, opt)
			if err != nil {
				return "", mapErr("complete interaction", err)
			}
			st.completed, st.originalID = true, msg.ID
			return msg.ID, nil
		}
		msg, err := s.FollowupMessageCreate(ix, true, &discordgo.WebhookParams{Content: out.Text, Files: files(out.Attachments),
			AllowedMentions: noPings(false), Components: feedbackComponents(out)}, opt)
		if err != nil {
			return "", mapErr("follow up interaction", err)
		}
		return msg.ID, nil
	}
	send := &discordgo.MessageSend{Content: out.Text, Files: files(out.Attachments), AllowedMentions: noPings(out.ReplyTo != ""),
		Components: feedbackComponents(out)}
	if out.ReplyTo != "" {
		no := false
		send.Reference = &discordgo.MessageReference{MessageID: out.ReplyTo, ChannelID: out.Chat.ID, FailIfNotExists: &no}
	}
	msg, err := s.ChannelMessageSendComplex(out.Chat.ID, send, opt)
	if err != nil {
		return "", mapErr("send", err)
	}
	return msg.ID, nil
}

var _ bot.MemberCounter = (*Adapter)(nil)

// MemberCount implements bot.MemberCounter: the approximate member count
// of the server the channel belongs to (GET /guilds/{id}?with_counts=true),
// the channel's server found from the gateway's state or, failing that,
// from GET /channels/{id}. A DM has no server and no count.
func (a *Adapter) MemberCount(ctx context.Context, chat bot.Chat) (int, error) {
	s, err := a.session()
	if err != nil {
		return 0, err
	}
	opt := discordgo.WithContext(ctx)
	guild := chat.Server
	if guild == "" {
		if ch, err := s.State.Channel(chat.ID); err == nil {
			guild = ch.GuildID
		} else if ch, err := s.Channel(chat.ID, opt); err == nil {
			guild = ch.GuildID
		} else {
			return 0, mapErr("get channel", err)
		}
	}
	if guild == "" {
		return 0, fmt.Errorf("discord: member count of channel %s: %w", chat.ID, bot.ErrUnsupported)
	}
	g, err := s.GuildWithCounts(guild, opt)
	if err != nil {
		return 0, mapErr("get guild", err)
	}
	return g.ApproximateMemberCount, nil
}

// Edit implements bot.Platform.
func (a *Adapter) Edit(ctx context.Context, out bot.Out, id string) error {
	s, err := a.session()
	if err != nil {
		return err
	}
	opt := discordgo.WithContext(ctx)
	content := out.Text
	if ix, ok := decodeInteraction(out.Interaction); ok {
		st := a.trackInteraction(out.Interaction)
		st.mu.Lock()
		target := id
		if id == st.originalID {
			target = "@original"
		}
		st.mu.Unlock()
		_, err := s.WebhookMessageEdit(ix.AppID, ix.Token, target, &discordgo.WebhookEdit{Content: &content, AllowedMentions: noPings(false),
			Components: feedbackEdit(out)}, opt)
		if err != nil {
			return mapErr("edit interaction reply", err)
		}
		return nil
	}
	edit := discordgo.NewMessageEdit(out.Chat.ID, id).SetContent(content)
	edit.AllowedMentions = noPings(out.ReplyTo != "")
	edit.Components = feedbackEdit(out)
	if _, err := s.ChannelMessageEditComplex(edit, opt); err != nil {
		return mapErr("edit", err)
	}
	return nil
}

// Delete implements bot.Platform.
func (a *Adapter) Delete(ctx context.Context, chat bot.Chat, id string) error {
	s, err := a.session()
	if err != nil {
		return err
	}
	if err := s.ChannelMessageDelete(chat.ID, id, discordgo.WithContext(ctx)); err != nil {
		return mapErr("delete", err)
	}
	return nil
}

// Typing implements bot.Platform.
func (a *Adapter) Typing(ctx context.Context, chat bot.Chat) error {
	s, err := a.session()
	if err != nil {
		return err
	}
	if err := s.ChannelTyping(chat.ID, discordgo.WithContext(ctx)); err != nil {
		return mapErr("typing", err)
	}
	return nil
}

// Restrict implements bot.Platform with a member timeout
// (communication_disabled_until), at most Discord's 28 days. In a DM there
// is no one to time out: bot.ErrUnsupported.
func (a *Adapter) Restrict(ctx context.Context, chat bot.Chat, userID string, until time.Time) error {
	s, guild, err := a.guildFor(ctx, chat)
	if err != nil {
		return err
	}
	if limit := time.Now().Add(maxTimeout); until.After(limit) {
		until = limit
	}
	until = until.UTC()
	if err := s.GuildMemberTimeout(guild, userIDOf(userID), &until, discordgo.WithContext(ctx)); err != nil {
		return mapErr("timeout member", err)
	}
	return nil
}

// Ban implements bot.Platform. In a DM: bot.ErrUnsupported.
func (a *Adapter) Ban(ctx context.Context, chat bot.Chat, userID string) error {
	s, guild, err := a.guildFor(ctx, chat)
	if err != nil {
		return err
	}
	if err := s.GuildBanCreateWithReason(guild, userIDOf(userID), "Chorus moderation", 0, discordgo.WithContext(ctx)); err != nil {
		return mapErr("ban", err)
	}
	return nil
}

func (a *Adapter) guildFor(ctx context.Context, chat bot.Chat) (*discordgo.Session, string, error) {
	s, err := a.session()
	if err != nil {
		return nil, "", err
	}
	if chat.Kind == bot.ChatDM {
		return nil, "", bot.ErrUnsupported
	}
	guild, err := a.guildOf(ctx, s, chat.ID)
	if err != nil {
		return nil, "", err
	}
	if guild == "" {
		return nil, "", bot.ErrUnsupported
	}
	return s, guild, nil
}

// userIDOf accepts a Discord id or a user key ("discord:123").
func userIDOf(u string) string {
	if p, id, ok := bot.SplitUserKey(u); ok && p == PlatformName {
		return id
	}
	return u
}

// mapErr wraps a discordgo error; a 429 becomes a *bot.RateLimitError so
// that the engine waits retry_after and tries again.
func mapErr(op string, err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return fmt.Errorf("discord: %s: %w", op, &bot.RateLimitError{RetryAfter: rl.RetryAfter, Op: op})
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("discord: %s: %w", op, &bot.RateLimitError{RetryAfter: retryAfter(re), Op: op})
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL of an interaction call holds its token: keep it out of
		// error text, which ends up in logs.
		return fmt.Errorf("discord: %s: %s %s: %w", op, ue.Op, redactURL(ue.URL), ue.Err)
	}
	return fmt.Errorf("discord: %s: %w", op, err)
}

// redactURL hides the token segment of interaction and webhook URLs.
func redactURL(raw string) string {
	parts := strings.Split(raw, "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "webhooks" || parts[i] == "interactions" {
			parts[i+2] = "REDACTED"
		}
	}
	return strings.Join(parts, "/")
}

// retryAfter reads retry_after (seconds, fractional) from a 429 body, or
// the Retry-After header, defaulting to one second.
func retryAfter(re *discordgo.RESTError) time.Duration {
	var body struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(re.ResponseBody, &body) == nil && body.RetryAfter > 0 {
		return time.Duration(body.RetryAfter * float64(time.Second))
	}
	if v, err := strconv.ParseFloat(re.Response.Header.Get("Retry-After"), 64); err == nil && v > 0 {
		return time.Duration(v * float64(time.Second))
	}
	return time.Second
}
