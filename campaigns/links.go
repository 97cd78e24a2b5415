package campaigns

import "context"

// Campaign is what a tracked link was published in: a post, an
// announcement, the bot's answers, the welcome; and where.
type Campaign struct {
	// ID is the campaign id: a post's or an announcement's id, or the
	// kind for answers and welcomes ("answer", "welcome").
	ID       string
	Kind     Kind
	Platform string
	// Chat is the platform's chat id.
	Chat string
}

// rewrite replaces links to the brand's domains in text with tracked
// short links of campaign cp.
func (c *Campaigns) rewrite(ctx context.Context, text string, cp Campaign) string { return text }
