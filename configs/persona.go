package configs

import (
	"fmt"
	"strings"
)

// PersonaConfig is the "persona" section: the brand's voice, which goes
// into every prompt and the offline provider's phrasing.
type PersonaConfig struct {
	// Brand is the brand's name as followers know it.
	Brand string `yaml:"brand"`
	// BotName is the assistant's name (and its handle for /cmd@name).
	BotName string `yaml:"bot_name"`
	// Voice describes the tone in a few words.
	Voice string `yaml:"voice"`
	// Do and Dont are short rules of conduct added to the prompt.
	Do   []string `yaml:"do"`
	Dont []string `yaml:"dont"`
}

func defaultPersona() PersonaConfig {
	return PersonaConfig{
		Brand:   "Lumen Coffee",
		BotName: "Lumi",
		Voice:   "warm, upbeat and concise; plain words, no jargon",
		Do: []string{
			"greet people by name when you know it",
			"suggest a drink or a bean when someone asks for a recommendation",
		},
		Dont: []string{
			"promise discounts, refunds or delivery dates that the knowledge base does not state",
			"discuss competitors' products",
		},
	}
}

func (c *PersonaConfig) fill() {
	d := defaultPersona()
	if strings.TrimSpace(c.Brand) == "" {
		c.Brand = d.Brand
	}
	if strings.TrimSpace(c.BotName) == "" {
		c.BotName = d.BotName
	}
}

func (c *PersonaConfig) validate(p *problems) {
	if strings.ContainsAny(c.BotName, " \t\n") {
		p.add("persona.bot_name", "must be one word (it is also the command handle), got %q", c.BotName)
	}
	for i, s := range c.Do {
		if strings.TrimSpace(s) == "" {
			p.add(fmt.Sprintf("persona.do[%d]", i), "must not be empty")
		}
	}
	for i, s := range c.Dont {
		if strings.TrimSpace(s) == "" {
			p.add(fmt.Sprintf("persona.dont[%d]", i), "must not be empty")
		}
	}
}
