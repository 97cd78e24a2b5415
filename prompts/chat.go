package prompts

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

var _ bot.Prompts = (*Set)(nil)

// ChatData is what the chat system prompt is assembled from.
type ChatData struct {
	// Brand, BotName, Voice, Do and Dont are the persona.
	Brand   string
	BotName string
	Voice   string
	Do      []string
	Dont    []string
	// Lang is the user's language ("en", "zh"); empty when unknown.
	Lang string
	// UserName is the display name of the person asking.
	UserName string
	// Passages are the knowledge-base passages to answer from: only
	// those relevant enough to the question.
	Passages []Passage
	// Contact is, when no passage was relevant, the passage that says how
	// to reach a person.
	Contact []Passage
	// NoAnswerMarker is what the model writes first when the passages
	// and the conversation don't answer the question; the engine strips
	// it before anything is shown and records a knowledge gap.
	NoAnswerMarker string
	// Summary is the rolling summary of the earlier conversation.
	Summary string
	// Profile is what is known of the user; nil when nothing.
	Profile *ProfileData
	// Now is the current time as the caller wants it shown.
	Now string
}

// Passage is a knowledge-base passage, shown as [source: Source].
type Passage struct {
	Source  string
	Heading string
	Text    string
}

// ProfileData is what is known of a user.
type ProfileData struct {
	// Names are the display names the user has been seen under.
	Names []string
	// Messages is how many messages they have sent.
	Messages int
	// Topics are what they asked about before (knowledge-base documents).
	Topics []string
	// FirstSeen is when they first wrote, formatted by the caller.
	FirstSeen string
}

// Turn is one message of the conversation window.
type Turn struct {
	// Role is RoleUser or RoleAssistant.
	Role string
	// Name is the author's display name (user turns).
	Name string
	Text string
}

// Answer assembles the prompt of an answer to in.Query (bot.Prompts):
// system.tmpl rendered on in's ChatData, the window's turns, the question.
func (s *Set) Answer(in bot.PromptInput) ([]bot.ChatMessage, error) {
	return s.Chat(chatData(in), turns(in.Window), in.Query)
}

// chatData is what system.tmpl sees of an answer's input: the persona
// flattened, times formatted, the profile's topics sorted.
func chatData(in bot.PromptInput) ChatData {
	d := ChatData{
		Brand: in.Persona.Brand, BotName: in.Persona.BotName, Voice: in.Persona.Voice,
		Do: in.Persona.Do, Dont: in.Persona.Dont, Lang: in.Lang, UserName: in.UserName,
		Summary: in.Summary, NoAnswerMarker: bot.NoAnswerMarker,
		Passages: passages(in.Passages), Contact: passages(in.Contact),
	}
	if !in.Now.IsZero() {
		d.Now = in.Now.UTC().Format(time.RFC1123)
	}
	if p := in.Profile; p != nil {
		pd := &ProfileData{Names: p.Names, Messages: p.Messages, FirstSeen: p.FirstSeen.UTC().Format("2006-01-02")}
		for t := range p.Topics {
			pd.Topics = append(pd.Topics, t)
		}
		sort.Strings(pd.Topics)
		d.Profile = pd
	}
	return d
}

func passages(ps []bot.Passage) []Passage {
	var out []Passage
	for _, p := range ps {
		out = append(out, Passage{Source: p.Source, Heading: p.Heading, Text: p.Text})
	}
	return out
}

func turns(ts []bot.Turn) []Turn {
	out := make([]Turn, 0, len(ts))
	for _, t := range ts {
		out = append(out, Turn{Role: t.Role, Name: t.Name, Text: t.Text})
	}
	return out
}

// Chat assembles the prompt of a chat answer: system.tmpl rendered on d,
// then the window turns, oldest first, as user and assistant messages
// (user turns prefixed with their author's name, since group chats have
// many), then query as the final user message.
func (s *Set) Chat(d ChatData, window []Turn, query string) ([]Message, error) {
	sys, err := s.Render(NameSystem, d)
	if err != nil {
		return nil, err
	}
	msgs := make([]Message, 0, len(window)+2)
	msgs = append(msgs, Message{Role: RoleSystem, Content: sys})
	for i, t := range window {
		switch t.Role {
		case RoleUser:
			c := t.Text
			if name := strings.TrimSpace(t.Name); name != "" {
				c = name + ": " + c
			}
			msgs = append(msgs, Message{Role: RoleUser, Content: c})
		case RoleAssistant:
			msgs = append(msgs, Message{Role: RoleAssistant, Content: t.Text})
		default:
			return nil, fmt.Errorf("prompts: chat: window turn %d has role %q, want %q or %q", i, t.Role, RoleUser, RoleAssistant)
		}
	}
	msgs = append(msgs, Message{Role: RoleUser, Content: query})
	return msgs, nil
}
