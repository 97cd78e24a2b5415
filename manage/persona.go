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
	if perr := o.set(f, value); perr != nil {
		switch perr.Kind {
		case "required":
			return env.Reply(ctx, env.T("manage.persona_required", "field", f))
		case "too_long":
			return env.Reply(ctx, env.T("manage.persona_too_long", "field", f, "max", perr.Max))
		case "too_many":
			return env.Reply(ctx, env.T("manage.persona_too_many", "field", f, "max", perr.Max))
		default:
			return env.Reply(ctx, usage)
		}
	}
	p, err := t.storeOverride(ctx, o)
	if err != nil {
		return err
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

// PersonaError says why a persona field's value was refused: Kind is
// "required", "too_long" (Max runes), "too_many" (Max items) or
// "unknown" (no such field).
type PersonaError struct {
	Field Field
	Kind  string
	Max   int
}

func (e *PersonaError) Error() string {
	switch e.Kind {
	case "required":
		return fmt.Sprintf("manage: persona %s is required", e.Field)
	case "too_long":
		return fmt.Sprintf("manage: persona %s is longer than %d characters", e.Field, e.Max)
	case "too_many":
		return fmt.Sprintf("manage: persona %s has more than %d items", e.Field, e.Max)
	}
	return fmt.Sprintf("manage: no persona field %q", e.Field)
}

// set puts value in field f of the override, as /persona set takes it
// (do and dont: items separated by ";"; "-" clears voice, do or dont).
func (o *personaOverride) set(f Field, value string) *PersonaError {
	clear := value == clearValue
	switch f {
	case FieldBrand, FieldBotName:
		if clear || value == "" {
			return &PersonaError{Field: f, Kind: "required"}
		}
		if utf8.RuneCountInString(value) > maxNameRunes {
			return &PersonaError{Field: f, Kind: "too_long", Max: maxNameRunes}
		}
		v := value
		if f == FieldBrand {
			o.Brand = &v
		} else {
			o.BotName = &v
		}
	case FieldVoice:
		if utf8.RuneCountInString(value) > maxVoiceRunes {
			return &PersonaError{Field: f, Kind: "too_long", Max: maxVoiceRunes}
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
					return &PersonaError{Field: f, Kind: "too_long", Max: maxItemRunes}
				}
				items = append(items, it)
			}
			if len(items) > maxListItems {
				return &PersonaError{Field: f, Kind: "too_many", Max: maxListItems}
			}
		}
		if f == FieldDo {
			o.Do = &items
		} else {
			o.Dont = &items
		}
	default:
		return &PersonaError{Field: f, Kind: "unknown"}
	}
	return nil
}

// storeOverride keeps o and puts the persona it makes in force.
func (t *Tools) storeOverride(ctx context.Context, o personaOverride) (bot.Persona, error) {
	js, err := json.Marshal(o)
	if err != nil {
		return bot.Persona{}, fmt.Errorf("manage: persona set: %w", err)
	}
	if err := t.kv.Put(ctx, BucketPersona, personaKey, js); err != nil {
		return bot.Persona{}, fmt.Errorf("manage: persona set: %w", err)
	}
	var base bot.Persona
	if t.personas != nil {
		base = t.personas.Base()
	}
	p := o.apply(base)
	if t.personas != nil {
		t.personas.Set(p)
	}
	return p, nil
}

// Persona is the persona in force.
func (t *Tools) Persona() bot.Persona {
	if t.personas == nil {
		return bot.Persona{}
	}
	return t.personas.Current()
}

// SetPersona sets fields of the persona as /persona set does, all at
// once: every value is checked first, and nothing changes when one is
// refused (a *PersonaError). The caller audits.
func (t *Tools) SetPersona(ctx context.Context, values map[Field]string) (bot.Persona, error) {
	o, err := t.override(ctx)
	if err != nil {
		return bot.Persona{}, err
	}
	for _, f := range Fields {
		v, ok := values[f]
		if !ok {
			continue
		}
		if perr := o.set(f, strings.TrimSpace(v)); perr != nil {
			return bot.Persona{}, perr
		}
	}
	return t.storeOverride(ctx, o)
}
