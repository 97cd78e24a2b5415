package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

// emptyKB is what kb list and kb search say about an empty knowledge base:
// "no match" would read as if the documents held nothing on the question.
const emptyKB = "the knowledge base is empty: chorus kb ingest DIR adds a folder (serve and chat fill an empty one from kb.dir, or with the built-in example)"

func runKB(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("kb", env)
	k := fs.Int("k", 5, "search: how many passages")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: kb needs ingest DIR, search QUERY, list or remove SOURCE|DOCUMENT", errUsage)
	}
	_, _, st, err := openAll(g, env)
	if err != nil {
		return err
	}
	defer st.Close()
	kb := st.KB()
	switch pos[0] {
	case "ingest":
		if len(pos) != 2 {
			return fmt.Errorf("%w: kb ingest DIR|FILE", errUsage)
		}
		rep, err := kb.Ingest(ctx, pos[1])
		if err != nil {
			return err
		}
		printReport(env, rep)
		return nil
	case "search":
		q := strings.Join(pos[1:], " ")
		if strings.TrimSpace(q) == "" {
			return fmt.Errorf("%w: kb search QUERY", errUsage)
		}
		ps, err := kb.Search(ctx, q, *k)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			if srcs, err := kb.Sources(ctx); err == nil && len(srcs) == 0 {
				fmt.Fprintln(env.stdout, emptyKB)
				return nil
			}
			fmt.Fprintln(env.stdout, "no match")
		}
		for i, p := range ps {
			head := p.Source
			if p.Heading != "" {
				head += " — " + p.Heading
			}
			fmt.Fprintf(env.stdout, "%d. [%s] (score %.2f, relevance %.2f)\n   %s\n", i+1, head, p.Score, p.Relevance, bot.Excerpt(p.Text, 240))
		}
		return nil
	case "list":
		return listKB(ctx, env, kb)
	case "remove":
		if len(pos) != 2 {
			return fmt.Errorf("%w: kb remove SOURCE|DOCUMENT (as kb list shows them)", errUsage)
		}
		src, doc, err := kb.Resolve(ctx, pos[1])
		if err != nil {
			return err
		}
		if doc == "" {
			n, err := kb.RemoveSource(ctx, src)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "removed source %s (%d documents)\n", src, n)
			return nil
		}
		if err := kb.Remove(ctx, src, doc); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "removed %s from %s\n", doc, src)
		return nil
	}
	return fmt.Errorf("%w: unknown kb command %q", errUsage, pos[0])
}

func printReport(env *cliEnv, rep memory.IngestReport) {
	fmt.Fprintf(env.stdout, "source %s: %d added, %d updated, %d unchanged, %d removed, %d passages written\n",
		rep.Source, len(rep.Added), len(rep.Updated), len(rep.Unchanged), len(rep.Removed), rep.Passages)
	for _, l := range []struct {
		what  string
		names []string
	}{{"added", rep.Added}, {"updated", rep.Updated}, {"removed", rep.Removed}} {
		for _, n := range l.names {
			fmt.Fprintf(env.stdout, "  %s %s\n", l.what, n)
		}
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(env.stdout, "not ingested (%d):\n", len(rep.Skipped))
		for _, s := range rep.Skipped {
			fmt.Fprintf(env.stdout, "  %s\n", s)
		}
	}
	if rep.ExampleRemoved {
		fmt.Fprintln(env.stdout, "the built-in example knowledge base was removed: it only fills an empty one")
	}
}

func listKB(ctx context.Context, env *cliEnv, kb *memory.KB) error {
	srcs, err := kb.Sources(ctx)
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		fmt.Fprintln(env.stdout, emptyKB)
		return nil
	}
	docs, err := kb.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	for i, s := range srcs {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		name := s.Name
		switch name {
		case memory.ExampleSource:
			name += " (built in)"
		case memory.LegacySource:
			name += " (ingested before sources; re-ingest its folder, then chorus kb remove " + memory.LegacySource + ")"
		}
		fmt.Fprintf(tw, "source %s: %d documents, %d passages, last ingested %s\n", name, s.Docs, s.Passages, s.Ingested.Format(time.RFC3339))
		fmt.Fprintln(tw, "  DOCUMENT\tFORMAT\tPASSAGES\tTITLE")
		for _, d := range docs {
			if d.Source == s.Name {
				fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", d.Path, d.Format, d.Passages, d.Title)
			}
		}
	}
	return tw.Flush()
}
