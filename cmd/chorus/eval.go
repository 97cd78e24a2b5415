package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/textclass"
)

// evalTasks are the classifiers `chorus eval` can score.
var evalTasks = []string{"spam", "offensive", "hate", "sentiment", "answers"}

// runEval scores a shipped classifier on a labelled dataset:
// chorus eval TASK --dataset PATH [--split NAME] [--json].
func runEval(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("eval", env)
	dataset := fs.String("dataset", "", "dataset path: a TweetEval task folder, a YouTube spam CSV or folder, an SMS Spam Collection TSV, the airline CSV, a ChnSentiCorp TSV or a waimai CSV; for answers, a JSONL file of questions (testdata/eval/answers.jsonl)")
	split := fs.String("split", "", "split of a TweetEval folder (default test if present, else val)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: chorus eval TASK --dataset PATH, TASK one of %s", errUsage, strings.Join(evalTasks, ", "))
	}
	task := pos[0]
	if *dataset == "" {
		return fmt.Errorf("%w: --dataset is required", errUsage)
	}
	if task == "answers" {
		return evalAnswers(ctx, env, g, *dataset, *asJSON)
	}
	ds, err := textclass.LoadDataset(*dataset, *split)
	if err != nil {
		return err
	}
	var pred func(string) int
	var labels []string
	var leaned *int
	switch task {
	case "spam", "offensive", "hate":
		pred, labels, err = moderation.EvalPredictor(task)
	case "sentiment":
		// Every row takes the live bot's path: its language detected as
		// the bot detects it, then the three-way decision. On a data set
		// with no neutral class (the Chinese reviews) a neutral decision
		// counts as the side it leans to, and how often is printed.
		pred, labels, leaned, err = analytics.EvalPredictor(!slices.Contains(ds.Labels, "neutral"))
	default:
		return fmt.Errorf("%w: unknown task %q, want one of %s", errUsage, task, strings.Join(evalTasks, ", "))
	}
	if err != nil {
		return err
	}
	rep := textclass.Evaluate(pred, ds, textclass.WithMapping(textclass.MapByName(labels, ds.Labels)))
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if leaned != nil {
			return enc.Encode(struct {
				textclass.Report
				NeutralLeaned int `json:"neutral_scored_by_lean"`
			}{rep, *leaned})
		}
		return enc.Encode(rep)
	}
	fmt.Fprintf(env.stdout, "task %s on %s\n", task, ds.Name)
	if leaned != nil {
		fmt.Fprintf(env.stdout, "called neutral by the bot, scored by the side they lean to: %d of %d\n", *leaned, len(ds.Examples))
	}
	return rep.WriteText(env.stdout)
}

// runTrain retrains the shipped classifiers from the labelled datasets:
// chorus train moderation|sentiment --datasets DIR --out DIR.
func runTrain(_ context.Context, env *cliEnv, args []string) error {
	fs, _ := newFlagSet("train", env)
	datasets := fs.String("datasets", "../shared/datasets", "folder holding the labelled datasets (tweeteval, spam, airline, zh-sentiment)")
	out := fs.String("out", "", "where to write the model files (default moderation/models or analytics/models)")
	task := fs.String("task", "", "moderation only: retrain just these tasks, comma separated (spam, offensive, hate); default all")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: chorus train moderation|sentiment --datasets DIR --out DIR", errUsage)
	}
	switch pos[0] {
	case "moderation":
		if *out == "" {
			*out = "moderation/models"
		}
		if *task == "" {
			return moderation.TrainAll(*datasets, *out, env.stderr)
		}
		var tasks []moderation.Task
		for _, t := range strings.Split(*task, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(moderation.Tasks, moderation.Task(t)) {
				return fmt.Errorf("%w: unknown moderation task %q, want spam, offensive or hate", errUsage, t)
			}
			tasks = append(tasks, moderation.Task(t))
		}
		return moderation.TrainTasks(*datasets, *out, tasks, env.stderr)
	case "sentiment":
		if *out == "" {
			*out = "analytics/models"
		}
		return analytics.TrainSentiment(*datasets, *out, env.stderr)
	}
	return fmt.Errorf("%w: unknown model family %q, want moderation or sentiment", errUsage, pos[0])
}
