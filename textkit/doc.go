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
// Everything here is safe for concurrent use.
package textkit
