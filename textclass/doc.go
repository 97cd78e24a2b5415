// Package textclass holds small offline linear text classifiers: hashed word
// and character n-grams weighted by TF-IDF, a multinomial logistic
// regression trained with AdaGrad, a compact serialised form that ships
// inside the binary, loaders for the labelled data sets the project tunes
// on, and the evaluation report the `chorus eval` command prints.
//
// It uses the standard library only, so any package (moderation, analytics)
// can build on it without pulling dependencies along.
//
// A typical use:
//
//	ds, err := textclass.LoadDataset("tweeteval/offensive", "train")
//	m, err := textclass.Train(ds.Examples, textclass.TrainConfig{Labels: ds.Labels})
//	label, probs := m.Predict("some text")
//	rep := textclass.Evaluate(func(s string) int { l, _ := m.Predict(s); return l }, dev)
package textclass
