package bot

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// DefaultMinRelevance is the relevance floor (Passage.Relevance) under
// which a passage is not used to answer, calibrated with chorus eval
// answers on testdata/eval/answers-dev.jsonl (155 questions) against the
// example knowledge base: from 0.40 to 0.52 the offline answers to
// answerable questions went from 85.8% to 82.3% right while honest "I
// don't know"s to unanswerable ones went from 81% to 95%; 0.48 kept 85.0%
// and 90.5%. Checked again after issue 14 (one-way thesaurus lines, names,
// the kind of fact asked for) on the file's 191 questions: 0.40 gives
// 94.3% and 76.5%, 0.44 94.3% and 82.4%, 0.48 93.6% and 88.2%, 0.52 88.6%
// and 92.2%; 0.48 stays.
const DefaultMinRelevance = 0.48

// Translator turns a short text into another language ("en", "zh"), so
// that a question in one language finds passages written in the other.
// Implementations cache; an error means "search the question as it is".
type Translator interface {
	// Translate returns text in lang, and the model call it took, which
	// the engine counts as a PurposeTranslate call: a zero Response (no
	// Model) when the translation came from a cache.
	Translate(ctx context.Context, text, lang string) (string, Response, error)
}

// WithTranslator makes the engine search the knowledge base again with
// the question translated into the other language when nothing relevant
// was found in its own.
func WithTranslator(t Translator) Option { return func(e *Engine) { e.translator = t } }

// retrieval is what the knowledge base gave for one question.
type retrieval struct {
	// best is the best passage found, relevant or not (for gap reports).
	best Passage
	// relevant is set when a passage reached the floor.
	relevant bool
}

// contactQueries find how to reach a person, for the next step of an
// "I don't know".
var contactQueries = map[string]string{
	"en": "contact customer help email team",
	"zh": "联系我们 帮助 客服",
}

// otherLang is the language a question is translated into.
func otherLang(lang string) string {
	if strings.HasPrefix(lang, "zh") {
		return "en"
	}
	return "zh"
}

// retrieve searches the knowledge base for query: passages at or above
// the relevance floor, translated into the other language when its own
// has none and a Translator is set, and, when nothing is relevant, the
// passage that says how to reach a person.
func (e *Engine) retrieve(ctx context.Context, query, lang string) ([]Passage, []Passage, retrieval) {
	var r retrieval
	if e.kb == nil || strings.TrimSpace(query) == "" {
		return nil, nil, r
	}
	search := func(q string) []Passage {
		ps, err := e.kb.Search(ctx, q, e.cfg.KBPassages)
		if err != nil {
			e.log.Warn("knowledge search failed", "err", err)
			return nil
		}
		if len(ps) > 0 && ps[0].Relevance > r.best.Relevance || r.best.Source == "" && len(ps) > 0 {
			r.best = ps[0]
		}
		out := ps[:0:0]
		for _, p := range ps {
			if p.Relevance >= e.cfg.MinRelevance {
				out = append(out, p)
			}
		}
		return out
	}
	ps := search(query)
	if len(ps) == 0 && e.translator != nil {
		start := e.now()
		tq, resp, err := e.translator.Translate(ctx, query, otherLang(lang))
		if resp.Model != "" || err != nil {
			outcome, model := OutcomeOK, resp.Model
			if err != nil {
				outcome = failOutcome(err)
			}
			if model == "" {
				model = "unknown"
			}
			e.events.Emit(Event{Kind: EventLLMCall, Model: model, Purpose: PurposeTranslate, Outcome: outcome,
				Duration: e.now().Sub(start), Usage: resp.Usage})
		}
		if err != nil {
			e.log.Debug("question translation failed", "err", err)
		} else if strings.TrimSpace(tq) != "" {
			ps = search(tq)
		}
	}
	if len(ps) > 0 {
		r.relevant = true
		return ps, nil, r
	}
	return nil, e.contactPassage(ctx, lang), r
}

// contactCache keeps the passage that says how to reach a person, per
// contact query, with the knowledge base's version it was found at: it is
// the same for every unanswered question until the knowledge base
// changes, so a VersionedKnowledge is searched for it once per change.
type contactCache struct {
	mu sync.Mutex
	m  map[string]contactEntry
}

type contactEntry struct {
	version uint64
	ps      []Passage
}

// contactPassage is the passage that says how to reach a person, in the
// question's language, or nil when none is relevant enough.
func (e *Engine) contactPassage(ctx context.Context, lang string) []Passage {
	cq := contactQueries["en"]
	if strings.HasPrefix(lang, "zh") {
		cq = contactQueries["zh"]
	}
	vk, versioned := e.kb.(VersionedKnowledge)
	var version uint64
	if versioned {
		version = vk.Version()
		e.contacts.mu.Lock()
		c, ok := e.contacts.m[cq]
		e.contacts.mu.Unlock()
		if ok && c.version == version {
			return slices.Clone(c.ps)
		}
	}
	contact, err := e.kb.Search(ctx, cq, 1)
	if err != nil {
		return nil
	}
	if len(contact) == 0 || contact[0].Relevance < e.cfg.MinRelevance/2 {
		contact = nil
	}
	if versioned {
		e.contacts.mu.Lock()
		if e.contacts.m == nil {
			e.contacts.m = map[string]contactEntry{}
		}
		e.contacts.m[cq] = contactEntry{version: version, ps: slices.Clone(contact)}
		e.contacts.mu.Unlock()
	}
	return contact
}
