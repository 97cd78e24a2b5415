// Package textkit is Chorus's one home for splitting English and Chinese
// text into words: the knowledge base's search terms, the offline
// provider's sentence picking, the manager tools' gaps and digests, and
// the trends all read text through it, so that a word means the same thing
// everywhere.
//
// A Word keeps two forms. Term is what matches: English lower-cased,
// accents folded and stemmed with the Snowball (Porter2) stemmer
// ("arrived" and "arrival" both become "arriv"), a Chinese word as it is.
// Text is the surface form people wrote ("arrived", "燕麦奶"), which is
// the only form ever shown to a person: Labels maps terms back to the
// surface form seen most often.
//
// Chinese is segmented into words by gse (github.com/go-ego/gse) with a
// small dictionary (about 8,300 words, data/README.md) and jieba's HMM for
// words outside it. The dictionary is loaded the first time Chinese text is
// seen, so a deployment that never sees Chinese never pays for it; loading
// costs about 20 ms and 5 MB of heap (BenchmarkLoadChinese).
//
// Stop words come in two levels: function words (Word.Stop), which say
// nothing anywhere, and filler (IsFiller), words like "time" or "today"
// that matter to a search but make poor topic labels.
//
// ParseQuery reads a question for a search: each content word a Concept,
// with the words that may stand for it in an answer from a small
// thesaurus of everyday shop paraphrases (data/thesaurus.txt: "steep" and
// "leave", "refund" and "money back", "暂停" and "停"), the words its
// one-way lines let answer for it but not the reverse (a country by its
// region, "Germany" by "EU"; a day by "every day"; a Chinese word by its
// English one, for the pages written only in English), the sense its cues
// pick for a word of two meanings ("reach you" is contact, "reach Canada"
// arrival), its Chinese characters for text segmented differently, and
// the kind of fact the question asks for (Asks: "how long" wants a
// duration), which Kinds finds in sentences. Query.Match scores a sentence
// with its section's heading, its document's title and the sentence
// before as context, names ("Germany", "House Blend") weighing more in
// the ranking; the knowledge base and the offline provider rank answers
// with it.
//
// Everything here is safe for concurrent use.
package textkit
