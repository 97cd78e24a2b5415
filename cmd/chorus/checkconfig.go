package main

import (
	"context"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/chorusbot/chorus/configs"
)

func runCheckConfig(_ context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("check-config", env)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(g, env)
	if err != nil {
		return err
	}
	out, err := yaml.Marshal(configs.Redacted(cfg))
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, "# configuration is valid; secrets redacted")
	_, err = env.stdout.Write(out)
	return err
}
