package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/go-telegram/bot/models"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
)

// chromiumPath finds Debian's chromium (or another Chrome) for the browser
// test.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestConsoleInBrowser drives the console in headless chromium against
// chorus serve with the fake Telegram and a fake model: sign in through a
// /console link, see the overview, rate an answer down in the chat and
// find it on the review page, write the right answer and see the bot use
// it, pardon an appeal, upload a document and find it in the answer box.
// A screenshot of each page goes into CHORUS_SCREENSHOTS (or the test's
// folder). It runs when CHORUS_TEST_BROWSER=1 (.ci/run sets it), and then
// fails, never skips, when chromium is missing.
func TestConsoleInBrowser(t *testing.T) {
	if os.Getenv("CHORUS_TEST_BROWSER") != "1" {
		t.Skip("set CHORUS_TEST_BROWSER=1 to drive the console in chromium (.ci/run does)")
	}
	chrome := chromiumPath()
	if chrome == "" {
		t.Fatal("CHORUS_TEST_BROWSER=1 but no chromium is installed (apt-get install chromium; .ci/run does)")
	}
	shots := os.Getenv("CHORUS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// The fake model answers from the passages it is given, and says it
	// doesn't know otherwise.
	model := newFakeOpenAI(t, func(req chatRequest) string {
		sys := req.text()
		switch {
		case strings.Contains(sys, "You write social media posts"):
			return "1. Our café opens at 8am every day: come early for the first roast. #LumenCoffee\n\n" +
				"2. Early bird? We open at 8am, every day. #Coffee\n\n3. Doors open at 8am daily. See you soon! #LumenCoffee"
		case strings.Contains(sys, "Mars on Tuesdays"):
			return "We deliver to Mars on Tuesdays."
		case strings.Contains(sys, "ship to Jupiter"):
			return "Our rocket beans ship to Jupiter."
		}
		return "[[no-answer]] Sorry, I don't know that."
	})
	tg := telegramtest.NewServer(9000, "chorusbot")
	t.Cleanup(tg.Close)
	dir := t.TempDir()
	kb := filepath.Join(dir, "kb")
	writeFiles(t, kb, map[string]string{"hours.md": "# Opening hours\n\nOur café opens at 8am every day.\n"})
	web := freePort(t)
	cfgPath := filepath.Join(dir, "chorus.yaml")
	writeFiles(t, dir, map[string]string{"chorus.yaml": `
roles:
  owners: ["telegram:42"]
moderation:
  words: ["plumbus"]
kb:
  dir: ` + kb + `
web:
  listen: ` + web + `
  base_url: http://` + web + `
`})
	startServe(t, []string{"CHORUS_TELEGRAM_TOKEN=9000:AAEtest-token-for-the-fake-bot-api-0123", "CHORUS_TELEGRAM_API_URL=" + tg.URL,
		"CHORUS_TELEGRAM_POLL_TIMEOUT=1s", "CHORUS_LLM_BASE_URL=" + model.URL + "/v1", "CHORUS_LLM_MODEL=test-model",
		"CHORUS_DATA_DIR=" + filepath.Join(dir, "data"), "CHORUS_WEB_LISTEN=" + web, "CHORUS_LOG_LEVEL=warn"}, "--config", cfgPath)
	if !tg.WaitFor(30*time.Second, func() bool { return len(tg.Calls(telegramtest.MethodGetUpdates)) > 0 }) {
		t.Fatal("the Telegram adapter never polled")
	}

	owner := telegramtest.User(42, "Olga", "en")
	fan := telegramtest.User(50, "Finn", "en")
	troll := telegramtest.User(60, "Trev", "en")
	next := 1000
	// say sends text and waits for the bot's reply whose text satisfies
	// done; it returns that message.
	say := func(chat models.Chat, from models.User, text string, done func(telegramtest.Sent) bool) telegramtest.Sent {
		t.Helper()
		before := len(tg.Messages(chat.ID))
		next++
		tg.Push(telegramtest.MessageUpdate(telegramtest.Text(chat, from, next, text)))
		var got telegramtest.Sent
		if !tg.WaitFor(30*time.Second, func() bool {
			for _, m := range tg.Messages(chat.ID)[before:] {
				if done(m) {
					got = m
					return true
				}
			}
			return false
		}) {
			t.Fatalf("no reply to %q in chat %d: %+v", text, chat.ID, tg.Messages(chat.ID)[before:])
		}
		return got
	}
	answered := func(m telegramtest.Sent) bool { return len(m.Buttons) > 0 }

	// Sign in through a /console link from the fake Telegram.
	ownerDM := telegramtest.PrivateChat(42)
	linkMsg := say(ownerDM, owner, "/console", func(m telegramtest.Sent) bool { return strings.Contains(m.Text, "/console/signin?t=") })
	link := regexp.MustCompile(`http://[^\s"<]+/console/signin\?t=[^\s"<]+`).FindString(linkMsg.Text)
	link = strings.ReplaceAll(link, "&amp;", "&")
	if link == "" {
		t.Fatalf("no link in %q", linkMsg.Text)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-US"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first run starts the browser, and the browser lives as long as
	// that run's context: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	defer cancelT()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		p := filepath.Join(shots, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		// The page's weight: its HTML and what it loads (the CSS, the
		// script), uncompressed, as the browser's resource timing says.
		w, err := chromedp.Run(tctx, chromedp.Evaluate[[]int](`[performance.getEntriesByType("navigation")[0].decodedBodySize,
			performance.getEntriesByType("resource").reduce((n, r) => n + r.decodedBodySize, 0)]`))
		if err != nil || len(w) != 2 {
			t.Fatalf("page weight of %s: %v", name, err)
		}
		t.Logf("screenshot %s (page weight: HTML %d bytes + CSS/script %d bytes)", p, w[0], w[1])
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	base := "http://" + web

	run("open the link", chromedp.Navigate(link), chromedp.WaitVisible(css(`button.primary`)))
	shot("01-signin")
	run("sign in", chromedp.Click(css(`button.primary`)), chromedp.WaitVisible(css(`.kpis`)))
	if got := text("main h1"); !strings.Contains(got, "Overview") {
		t.Fatalf("after sign-in the page is %q", got)
	}

	// Rate an answer down in the chat; find it on the review page.
	fanDM := telegramtest.PrivateChat(50)
	ans := say(fanDM, fan, "Do you deliver to Mars?", answered)
	if _, err := tg.Press(fanDM, ans.MessageID, fan, ans.Buttons[0][1].CallbackData); err != nil {
		t.Fatal(err)
	}
	if !tg.WaitFor(20*time.Second, func() bool { return len(tg.Calls(telegramtest.MethodAnswerCallbackQuery)) > 0 }) {
		t.Fatal("the 👎 was never acknowledged")
	}
	run("overview", chromedp.Navigate(base+"/console/?period=24h"), chromedp.WaitVisible(css(`svg.chart`)))
	shot("02-overview")
	var reviewText string
	deadline := time.Now().Add(20 * time.Second)
	for {
		run("review", chromedp.Navigate(base+"/console/review?kind=down"), chromedp.WaitVisible(css(`main h1`)))
		reviewText = text("main")
		if strings.Contains(reviewText, "Do you deliver to Mars?") || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(reviewText, "Do you deliver to Mars?") || !strings.Contains(reviewText, "Rated 👎") {
		t.Fatalf("the rated-down answer is not on the review page:\n%s", reviewText)
	}
	shot("03-review")

	// Write the right answer, and see the bot use it.
	run("write the answer", chromedp.Click(css(`article.item details summary`)),
		chromedp.SendKeys(css(`article.item textarea[name=answer]`), "We deliver to Mars on Tuesdays."),
		chromedp.Click(css(`article.item form.answer-form button.primary`)),
		chromedp.WaitVisible(css(`p.notice`)))
	if got := text("p.notice"); !strings.Contains(got, "Added to the knowledge base") {
		t.Fatalf("after writing the answer: %q", got)
	}
	shot("04-review-answered")
	again := say(fanDM, fan, "Do you deliver to Mars?", answered)
	if !strings.Contains(again.Text, "Mars on Tuesdays") {
		t.Fatalf("the bot did not use the written answer: %q", again.Text)
	}

	// Pardon an appeal: a word from the list in a group, then /appeal.
	group := telegramtest.GroupChat(-100777, false)
	next++
	tg.Push(telegramtest.MessageUpdate(telegramtest.Text(group, troll, next, "what a plumbus you are")))
	trollDM := telegramtest.PrivateChat(60)
	var appealed bool
	for i := 0; i < 40 && !appealed; i++ {
		time.Sleep(250 * time.Millisecond)
		r := say(trollDM, troll, "/appeal I was quoting a cartoon", func(telegramtest.Sent) bool { return true })
		appealed = strings.Contains(r.Text, "appeal was sent")
	}
	if !appealed {
		t.Fatal("the appeal was never taken")
	}
	run("moderation", chromedp.Navigate(base+"/console/moderation"), chromedp.WaitVisible(css(`main h1`)))
	if got := text("main"); !strings.Contains(got, "I was quoting a cartoon") {
		t.Fatalf("the appeal is not on the moderation page:\n%s", got)
	}
	shot("05-moderation")
	run("pardon", chromedp.Click(css(`form[action="/console/moderation/appeal/pardon"] button`)),
		chromedp.WaitVisible(css(`p.notice`)))
	if got := text("p.notice"); !strings.Contains(got, "Pardoned") {
		t.Fatalf("after pardon: %q", got)
	}

	// Upload a document and find it in the answer box.
	doc := filepath.Join(dir, "rockets.md")
	writeFiles(t, dir, map[string]string{"rockets.md": "# Rocket beans\n\nOur rocket beans ship to Jupiter in a sealed tin.\n"})
	run("upload", chromedp.Navigate(base+"/console/knowledge"), chromedp.WaitVisible(css(`input[type=file]`)),
		chromedp.SetUploadFiles(css(`input[type=file]`), []string{doc}),
		chromedp.Click(css(`form[action="/console/knowledge/upload"] button`)),
		chromedp.WaitVisible(css(`p.notice`)))
	run("ask", chromedp.SendKeys(css(`input[name=q]`), "Do your rocket beans ship to Jupiter?"),
		chromedp.Submit(css(`input[name=q]`)), chromedp.WaitVisible(css(`.quote.answer`)))
	if got := text("main"); !strings.Contains(got, "sealed tin") || !strings.Contains(text(".quote.answer"), "ship to Jupiter") {
		t.Fatalf("the uploaded document is not in the answer box:\n%s", got)
	}
	shot("06-knowledge")
	// The owner drafts a post in the chat; the drafts page shows it, and
	// the one kept.
	say(ownerDM, owner, "/post telegram our opening hours", func(m telegramtest.Sent) bool { return strings.Contains(m.Text, "/post keep") })
	say(ownerDM, owner, "/post keep 2", func(m telegramtest.Sent) bool {
		return strings.Contains(m.Text, "kept") || strings.Contains(m.Text, "Kept")
	})
	run("drafts", chromedp.Navigate(base+"/console/drafts"), chromedp.WaitVisible(css(`main h1`)))
	areas, err := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("main textarea")).map(t => t.value).join("\n---\n")`))
	if err != nil || strings.Count(areas, "Early bird? We open at 8am") != 2 {
		t.Fatalf("the drafts page lacks the /post drafts (the last /post and the kept one): %v\n%s", err, areas)
	}
	shot("07-drafts")
	run("persona", chromedp.Navigate(base+"/console/persona"), chromedp.WaitVisible(css(`main h1`)))
	shot("08-persona")

	// The same console in Chinese, chosen by the browser's language.
	run("chinese", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}})
		return err
	}), chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(css(`svg.chart`)))
	if got := text("main h1"); !strings.Contains(got, "概览") {
		t.Fatalf("the console in Chinese shows %q", got)
	}
	shot("09-overview-zh")
	run("chinese review", chromedp.Navigate(base+"/console/review?kind=dont_know"), chromedp.WaitVisible(css(`main h1`)))
	shot("10-review-zh")

	// Sign out: the console is closed again.
	// The signed-out page is the first with a narrow card after the
	// click: waiting for it waits for the sign-out itself.
	run("sign out", chromedp.Click(css(`form.who button`)), chromedp.WaitVisible(css(`main section.narrow`)),
		chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(css(`main section.narrow`)))
	if got := text("main"); !strings.Contains(got, "/console") {
		t.Fatalf("after sign-out the console shows:\n%s", got)
	}
}
