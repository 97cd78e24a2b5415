package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
)

// Field is a persona field /persona set can change.
type Field string

// Persona fields, named as in the config file.
const (
	FieldBrand   Field = "brand"
	FieldBotName Field = "bot_name"
	FieldVoice   Field = "voice"
	FieldDo      Field = "do"
	FieldDont    Field = "dont"
)

// Fields lists the persona fields in the order /persona show prints them.
var Fields = []Field{FieldBrand, FieldBotName, FieldVoice, FieldDo, FieldDont}

// personaKey is the key of the override in BucketPersona.
const personaKey = "override"

// Limits on what /persona set accepts.
const (
	maxNameRunes  = 64
	maxVoiceRunes = 500
	maxListItems  = 10
	maxItemRunes  = 200
)

// clearValue empties voice, do or dont.
const clearValue = "-"

// personaOverride is what was set at run time; nil fields keep the
// config's value, so that later config changes to other fields still
// apply.
type personaOverride struct {
	Brand   *string   `json:"brand,omitempty"`
	BotName *string   `json:"bot_name,omitempty"`
	Voice   *string   `json:"voice,omitempty"`
	Do      *[]string `json:"do,omitempty"`
	Dont    *[]string `json:"dont,omitempty"`
}

func (o personaOverride) apply(p bot.Persona) bot.Persona {
	if o.Brand != nil {
		p.Brand = *o.Brand
	}
	if o.BotName != nil {
		p.BotName = *o.BotName
	}
	if o.Voice != nil {
		p.Voice = *o.Voice
	}
	if o.Do != nil {
		p.Do = *o.Do
	}
	if o.Dont != nil {
		p.Dont = *o.Dont
	}
	return p
}

func (o personaOverride) has(f Field) bool {
	switch f {
	case FieldBrand:
		return o.Brand != nil
	case FieldBotName:
		return o.BotName != nil
	case FieldVoice:
		return o.Voice != nil
	case FieldDo:
		return o.Do != nil
	case FieldDont:
		return o.Dont != nil
	}
	return false
}

func (t *Tools) override(ctx context.Context) (personaOverride, error) {
	var o personaOverride
	v, err := t.kv.Get(ctx, BucketPersona, personaKey)
	if errors.Is(err, bot.ErrNotFound) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("manage: load persona: %w", err)
	}
	if err := json.Unmarshal(v, &o); err != nil {
		return o, fmt.Errorf("manage: load persona: %w", err)
	}
	return o, nil
}

// loadPersona applies the stored override over the config's persona.
func (t *Tools) loadPersona(ctx context.Context) error {
	o, err := t.override(ctx)
	if err != nil {
		return err
	}
	if t.personas != nil {
		t.personas.Set(o.apply(t.personas.Base()))
	}
	return nil
}

func personaValue(p bot.Persona, f Field) string {
	switch f {
	case FieldBrand:
		return p.Brand
	case FieldBotName:
		return p.BotName
	case FieldVoice:
		return p.Voice
	case FieldDo:
		return strings.Join(p.Do, "; ")
	case FieldDont:
		return strings.Join(p.Dont, "; ")
	}
	return ""
}

func (t *Tools) cmdPersona(ctx context.Context, env *bot.Env, c *bot.Command) error {
	sub, rest, _ := strings.Cut(strings.TrimSpace(c.Args), " ")
	switch strings.ToLower(sub) {
	case "", "show":
		return t.showPersona(ctx, env)
	case "set":
		if env.Role < bot.RoleOwner {
			return refuse(ctx, env, "persona set", bot.RoleOwner)
		}
		return t.setPersona(ctx, env, strings.TrimSpace(rest))
	case "reset":
		if env.Role < bot.RoleOwner {
			return refuse(ctx, env, "persona reset", bot.RoleOwner)
		}
		if err := t.kv.Delete(ctx, BucketPersona, personaKey); err != nil {
			return fmt.Errorf("manage: persona reset: %w", err)
		}
		if t.personas != nil {
			t.personas.Reset()
		}
		m := env.Message()
		env.Audit(ctx, bot.AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Actor: m.UserKey(), Kind: bot.AuditPersona, Action: "reset"})
		return env.Reply(ctx, env.T("manage.persona_reset"))
	}
	return env.Reply(ctx, env.T("manage.persona_usage", "fields", fieldList()))
}

func fieldList() string {
	s := make([]string, len(Fields))
	for i, f := range Fields {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

func (t *Tools) showPersona(ctx context.Context, env *bot.Env) error {
	o, err := t.override(ctx)
	if err != nil {
		return err
	}
	p := env.Persona()
	var b strings.Builder
	b.WriteString(env.T("manage.persona_header"))
	for _, f := range Fields {
		v := personaValue(p, f)
		if v == "" {
			v = "—"
		}
		mark := ""
		if o.has(f) {
			mark = " *"
		}
		fmt.Fprintf(&b, "\n%s%s: %s", f, mark, v)
	}
	if env.Role >= bot.RoleOwner {
		b.WriteString("\n\n" + env.T("manage.persona_hint"))
	}
	return env.Reply(ctx, b.String())
}

func (t *Tools) setPersona(ctx context.Context, env *bot.Env, args string) error {
	name, value, _ := strings.Cut(args, " ")
	f := Field(strings.ToLower(name))
	value = strings.TrimSpace(value)
	usage := env.T("manage.persona_usage", "fields", fieldList())
	if value == "" {
		return env.Reply(ctx, usage)
	}
	o, err := t.override(ctx)
	if err != nil {
		return err
	}
	clear := value == clearValue
	tooLong := func(n int) error { return env.Reply(ctx, env.T("manage.persona_too_long", "field", f, "max", n)) }
	switch f {
	case FieldBrand, FieldBotName:
		if clear {
			return env.Reply(ctx, env.T("manage.persona_required", "field", f))
		}
		if utf8.RuneCountInString(value) > maxNameRunes {
			return tooLong(maxNameRunes)
		}
		v := value
		if f == FieldBrand {
			o.Brand = &v
		} else {
			o.BotName = &v
		}
	case FieldVoice:
		if utf8.RuneCountInString(value) > maxVoiceRunes {
			return tooLong(maxVoiceRunes)
		}
		v := value
		if clear {
			v = ""
		}
		o.Voice = &v
	case FieldDo, FieldDont:
		items := []string{}
		if !clear {
			for _, it := range strings.Split(value, ";") {
				it = strings.TrimSpace(it)
				if it == "" {
					continue
				}
				if utf8.RuneCountInString(it) > maxItemRunes {
					return tooLong(maxItemRunes)
				}
				items = append(items, it)
			}
			if len(items) > maxListItems {
				return env.Reply(ctx, env.T("manage.persona_too_many", "field", f, "max", maxListItems))
			}
		}
		if f == FieldDo {
			o.Do = &items
		} else {
			o.Dont = &items
		}
	default:
		return env.Reply(ctx, usage)
	}
	js, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("manage: persona set: %w", err)
	}
	if err := t.kv.Put(ctx, BucketPersona, personaKey, js); err != nil {
		return fmt.Errorf("manage: persona set: %w", err)
	}
	base := env.Persona()
	if t.personas != nil {
		base = t.personas.Base()
	}
	p := o.apply(base)
	if t.personas != nil {
		t.personas.Set(p)
	}
	m := env.Message()
	env.Audit(ctx, bot.AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Actor: m.UserKey(),
		Kind: bot.AuditPersona, Action: "set", Rule: string(f), Excerpt: clip(value, 120)})
	shown := personaValue(p, f)
	if shown == "" {
		shown = "—"
	}
	return env.Reply(ctx, env.T("manage.persona_set", "field", f, "value", shown))
}
