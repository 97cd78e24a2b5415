package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Rating is a follower's verdict on one of the bot's answers.
type Rating string

// Ratings.
const (
	RatingUp   Rating = "up"
	RatingDown Rating = "down"
)

// Ratings lists every Rating: the values of EventFeedback's Label.
var Ratings = []Rating{RatingUp, RatingDown}

// feedbackPrefix starts the data a feedback button carries.
const feedbackPrefix = "fb:"

// FeedbackData is what a feedback button carries back (a Telegram
// callback_data, a Discord custom_id): the rating and the id of the
// question the answer replies to. It stays within Telegram's 64 bytes for
// any platform message id.
func FeedbackData(r Rating, question string) string {
	return feedbackPrefix + string(r) + ":" + question
}

// ParseFeedbackData reads FeedbackData; ok is false for anything else.
func ParseFeedbackData(s string) (r Rating, question string, ok bool) {
	rest, ok := strings.CutPrefix(s, feedbackPrefix)
	if !ok {
		return "", "", false
	}
	rs, q, ok := strings.Cut(rest, ":")
	r = Rating(rs)
	if !ok || q == "" || (r != RatingUp && r != RatingDown) {
		return "", "", false
	}
	return r, q, true
}

// Vote is a rating given with the buttons under an answer.
type Vote struct {
	Platform string
	// Chat is where the answer is (its thread included).
	Chat Chat
	// Voter is who pressed the button.
	Voter User
	// Question is the platform id of the message the answer replies to
	// (from FeedbackData).
	Question string
	Rating   Rating
}

// VoteResult says what became of a vote.
type VoteResult int

// Vote results.
const (
	// VoteCounted: the first vote of this follower on this answer.
	VoteCounted VoteResult = iota + 1
	// VoteRepeated: the follower had rated this answer already; the first
	// vote stands.
	VoteRepeated
	// VoteIgnored: a vote from a bot.
	VoteIgnored
)

// Voter takes votes from the buttons under answers; the Engine is one.
// Adapters type-assert their Handler to it.
type Voter interface {
	Vote(ctx context.Context, v Vote) (VoteResult, error)
}

var _ Voter = (*Engine)(nil)

// bucketFeedback keeps one record per follower per rated answer, under
// the voter's UserHash, so that a vote is counted once.
const bucketFeedback = "feedback"

// Vote counts a follower's rating of an answer once (the first vote
// stands) and emits EventFeedback, which the metrics, analytics (/stats)
// and the console's review read.
func (e *Engine) Vote(ctx context.Context, v Vote) (VoteResult, error) {
	if v.Voter.IsBot {
		return VoteIgnored, nil
	}
	if v.Rating != RatingUp && v.Rating != RatingDown || v.Question == "" || v.Voter.ID == "" {
		return 0, errors.New("bot: vote: rating, question and voter are required")
	}
	kv := e.journal()
	conv := ConversationKey(v.Platform, v.Chat.ID, v.Chat.Thread)
	voter := UserKey(v.Platform, v.Voter.ID)
	key := conv + "\x00" + v.Question + "\x00" + UserHash(voter)
	e.voteMu.Lock()
	defer e.voteMu.Unlock()
	if _, err := kv.Get(ctx, bucketFeedback, key); err == nil {
		return VoteRepeated, nil
	} else if !errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("bot: vote: %w", err)
	}
	if err := kv.Put(ctx, bucketFeedback, key, []byte(v.Rating)); err != nil {
		return 0, fmt.Errorf("bot: vote: %w", err)
	}
	e.events.Emit(Event{Kind: EventFeedback, Time: e.now(), Platform: v.Platform, ChatKind: v.Chat.Kind, Chat: conv,
		User: voter, Label: string(v.Rating), Ref: v.Question})
	return VoteCounted, nil
}
