package textkit

// enStop are English function words and chat filler: pronouns,
// articles, auxiliaries, prepositions, question words, greetings and
// interjections. Apostrophes are already dropped ("dont").
var enStop = setOf(`a about above after again against all also am an and any are arent as at be because been before
being below between both but by can cant cannot could couldnt did didnt do does doesnt doing dont down during each
few for from further had hadnt has hasnt have havent having he hed hell hes her here heres hers herself him himself his
how hows i id ill im ive if in into is isnt it its itself lets me more most mustnt my myself no nor not of off on once
only or other ought our ours ourselves out over own same shant she shed shell shes should shouldnt so some such than
that thats the their theirs them themselves then there theres these they theyd theyll theyre theyve this those
through to too under until up very was wasnt we wed well were weve werent what whats when whens where wheres which
while who whos whom why whys will with wont would wouldnt you youd youll youre youve your yours yourself yourselves
u ur pls plz please hi hello hey hiya yo thanks thank thx ty ok okay yes yeah yep yup nope lol lmao omg haha hahaha
hmm uh um oh ah us just any anyone anybody someone somebody something anything everything nothing nobody noone none
via amp rt`)

// enFiller are English content words too general to name a topic: they
// still count in a search, but never become a trend, a digest topic or a
// gap group's label.
var enFiller = setOf(`one two three many much lot lots really still even well back way make made get got getting
know think want need going gonna wanna today yesterday tomorrow day days time times thing things stuff something
tell say said see look like good great nice new old first last next people guys everyone someone anyone everybody
question questions ask asking answer help take takes long soon possible way able kind kinds type sort give gave
given giving put use used using work works working try tried trying anymore live lives living`)

// IsFiller reports whether the term of a word is too general to name a
// topic (English filler words by their stem, Chinese by the word).
func IsFiller(w Word) bool {
	if w.Han {
		return zhFiller[w.Text]
	}
	return enFiller[w.Text] || fillerStems[w.Term]
}

// fillerStems are the stems of enFiller, so "asked" and "questions" are
// filler too.
var fillerStems = func() map[string]bool {
	m := map[string]bool{}
	for w := range enFiller {
		m[Stem(w)] = true
	}
	return m
}()

// IsFillerTerm is IsFiller for a term (a stem or a Chinese word).
func IsFillerTerm(term string) bool { return fillerStems[term] || zhFiller[term] }

// IsStop reports whether a lower-case English word or a Chinese word is
// a function word.
func IsStop(w string) bool { return enStop[foldAccents(w)] || zhStop[w] }
