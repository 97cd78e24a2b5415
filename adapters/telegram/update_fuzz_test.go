package telegram

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
)

// FuzzUpdate feeds arbitrary JSON as a Bot API update through the
// adapter's conversion, against the fake Bot API (for the administrator
// look-ups): no panic, and a message it accepts is one the engine can take.
func FuzzUpdate(f *testing.F) {
	for _, seed := range []string{
		`{"update_id":1,"message":{"message_id":5,"date":1700000000,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"Ann","language_code":"zh-hans"},"text":"你好"}}`,
		`{"update_id":2,"message":{"message_id":6,"chat":{"id":-100,"type":"supergroup","is_forum":true},"message_thread_id":7,"is_topic_message":true,"from":{"id":9,"first_name":"Bo"},"text":"/help@chorus_test_bot x","entities":[{"type":"bot_command","offset":0,"length":21}]}}`,
		`{"update_id":3,"edited_message":{"message_id":6,"chat":{"id":-100,"type":"group"},"from":{"id":9},"text":"@chorus_test_bot hi","entities":[{"type":"mention","offset":0,"length":16}]}}`,
		`{"update_id":4,"message":{"message_id":8,"chat":{"id":-100,"type":"group"},"from":{"id":9},"caption":"look","photo":[{"file_id":"x"}],"reply_to_message":{"message_id":1,"chat":{"id":-100,"type":"group"},"from":{"id":777,"is_bot":true}}}}`,
		`{"update_id":5,"channel_post":{"message_id":1,"chat":{"id":-5,"type":"channel"},"text":"post"}}`,
		`{"update_id":6,"message":{"message_id":9,"chat":{"id":1,"type":"private"},"from":{"id":1},"text":"\u0000\ud83d","entities":[{"type":"mention","offset":-3,"length":99999}]}}`,
		`{"update_id":7}`, `null`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	fake := telegramtest.NewServer(777, "chorus_test_bot")
	f.Cleanup(fake.Close)
	a, err := New(Config{Token: "1:a", APIURL: fake.URL, ManagerIDs: []string{"5"}},
		bot.HandlerFunc(func(context.Context, bot.Message) error { return nil }))
	if err != nil {
		f.Fatal(err)
	}
	a.meMu.Lock()
	a.meID, a.meName = 777, "chorus_test_bot"
	a.meMu.Unlock()
	f.Fuzz(func(t *testing.T, payload []byte) {
		var upd models.Update
		if json.Unmarshal(payload, &upd) != nil {
			return
		}
		m, skip := a.convert(context.Background(), &upd)
		if skip != "" {
			return
		}
		if m.Platform != PlatformName || m.Chat.ID == "" {
			t.Fatalf("accepted a message without platform or chat: %+v", m)
		}
		if !utf8.ValidString(m.Author.Name) {
			t.Fatalf("invalid UTF-8 name %q", m.Author.Name)
		}
		if m.Command != nil && (m.Command.Name == "" || strings.ContainsAny(m.Command.Name, " @/")) {
			t.Fatalf("bad command %+v", m.Command)
		}
	})
}
