package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chorusbot/chorus/bot"
)

func runKB(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("kb", env)
	k := fs.Int("k", 5, "search: how many passages")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: kb needs ingest DIR, search QUERY or list", errUsage)
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
			return fmt.Errorf("%w: kb ingest DIR", errUsage)
		}
		rep, err := kb.Ingest(ctx, pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, rep)
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
			fmt.Fprintln(env.stdout, "no match")
		}
		for i, p := range ps {
			head := p.Source
			if p.Heading != "" {
				head += " — " + p.Heading
			}
			fmt.Fprintf(env.stdout, "%d. [%s] (%.2f)\n   %s\n", i+1, head, p.Score, bot.Excerpt(p.Text, 240))
		}
		return nil
	case "list":
		docs, err := kb.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SOURCE\tPASSAGES\tINGESTED")
		for _, d := range docs {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", d.Source, d.Passages, d.Ingested.Format(time.RFC3339))
		}
		return tw.Flush()
	}
	return fmt.Errorf("%w: unknown kb command %q", errUsage, pos[0])
}
