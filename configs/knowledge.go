package configs

import (
	"embed"
	"io/fs"
)

//go:embed knowledge/*.md
var exampleKnowledge embed.FS

// ExampleKnowledge is the example knowledge base (configs/knowledge) built
// into the binary, so that a fresh `chorus chat` run from anywhere has
// something to answer from. Files sit at the root of the FS.
func ExampleKnowledge() fs.FS {
	sub, err := fs.Sub(exampleKnowledge, "knowledge")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}
