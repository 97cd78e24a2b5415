package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCrossLanguageAnswer: an English question whose answer exists only
// in a Chinese document. The own-language search finds nothing relevant,
// so the binary asks the model (an OpenAI-compatible fake speaking the
// real JSON and SSE) to translate the question with translate.tmpl,
// searches again in Chinese, and the chat prompt carries the Chinese
// passage: the answer is given, not an "I don't know", and no gap is
// recorded. The same question again is translated from the cache.
func TestCrossLanguageAnswer(t *testing.T) {
	kb := t.TempDir()
	writeFiles(t, kb, map[string]string{
		"shipping.md": "# Shipping\n\nWe ship from Portland to the United States and Canada. Orders leave within two business days.\n",
		"faq-zh.md":   "# 常见问题\n\n## 礼品包装\n\n所有订单都可以免费礼品包装，结账时勾选“礼品包装”即可，我们会附上手写卡片。\n",
	})
	var translations []string
	fake := newFakeOpenAI(t, func(req chatRequest) string {
		sys := req.Messages[0].Content
		if !req.Stream && strings.Contains(sys, "You translate a customer's question into Simplified Chinese") {
			translations = append(translations, req.Messages[len(req.Messages)-1].Content)
			return "你们提供礼品包装吗？"
		}
		if strings.Contains(sys, "免费礼品包装") {
			return "Yes: gift wrapping is free, just tick “gift wrap” at checkout [source: faq-zh.md]."
		}
		return "[[no-answer]] Sorry, I don't know that."
	})
	env := []string{"CHORUS_LLM_BASE_URL=" + fake.URL + "/v1", "CHORUS_LLM_MODEL=test-model",
		"CHORUS_DATA_DIR=" + t.TempDir(), "CHORUS_KB_DIR=" + kb, "CHORUS_LOG_LEVEL=warn"}
	out, errOut := chorus(t, env, "Do you offer gift wrapping?\nDo you offer gift wrapping?\n/gaps\n", "chat")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "Yes: gift wrapping is free") || lines[1] != lines[0] {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if strings.Contains(out, "[[no-answer]]") || strings.Contains(out, "don't know") {
		t.Errorf("an answer the Chinese document holds came out as a non-answer:\n%s", out)
	}
	if !strings.Contains(out, "No unanswered questions") {
		t.Errorf("/gaps lists a question that was answered:\n%s", out)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(translations) != 1 || translations[0] != "Do you offer gift wrapping?" {
		t.Errorf("translation requests = %q, want the question once (the repeat from the cache)", translations)
	}
	var chats []chatRequest
	for _, r := range fake.requests {
		if r.Stream {
			chats = append(chats, r)
		}
	}
	if len(chats) != 2 || !strings.Contains(chats[0].text(), "faq-zh.md") || !strings.Contains(chats[0].text(), "结账时勾选") {
		t.Errorf("the chat prompt lacks the Chinese passage:\n%s", chats[0].text())
	}
	if strings.Contains(chats[0].text(), "We ship from Portland") {
		t.Errorf("the unrelated English passage went into the prompt:\n%s", chats[0].text())
	}
}
