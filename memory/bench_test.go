package memory

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// bulkAppend stores turns at the end of conv with every index Append
// keeps, in large unsynced transactions: a loader for tests and
// benchmarks that need long histories fast. Not for edits.
func (s *Store) bulkAppend(conv string, turns []bot.Turn) error {
	s.db.NoSync = true
	defer func() { s.db.NoSync = false; s.db.Sync() }()
	ck := nameKey(conv)
	const perTx = 100_000
	for start := 0; start < len(turns); start += perTx {
		part := turns[start:min(start+perTx, len(turns))]
		err := s.db.Update(func(tx *bolt.Tx) error {
			cb, err := convBucket(tx, conv, ck)
			if err != nil {
				return err
			}
			tb, mb := cb.Bucket(bTurns), cb.Bucket(bMsgID)
			tb.FillPercent, mb.FillPercent = 1, 0.9
			tt := tx.Bucket(bTTime)
			tt.FillPercent = 1
			users := tx.Bucket(bUsers)
			for _, t := range part {
				seq, err := tb.NextSequence()
				if err != nil {
					return err
				}
				t.Seq = seq
				sk := u64(seq)
				if err := tb.Put(sk, encodeTurn(t)); err != nil {
					return err
				}
				if t.Role == bot.RoleUser && t.MsgID != "" {
					if err := mb.Put(nameKey(t.MsgID), sk); err != nil {
						return err
					}
				}
				if err := tt.Put(cat(timeKey(t.Time), ck, sk), nil); err != nil {
					return err
				}
				if t.User != "" {
					ub, err := users.CreateBucketIfNotExists(nameKey(t.User))
					if err != nil {
						return err
					}
					ub.FillPercent = 1
					if err := ub.Put(cat(refTurn, ck, sk), nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func benchTurns(n int) []bot.Turn {
	turns := make([]bot.Turn, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range turns {
		role := bot.RoleUser
		if i%2 == 1 {
			role = bot.RoleAssistant
		}
		text := fmt.Sprintf("message %d about coffee beans and grinders", i)
		turns[i] = bot.Turn{Role: role, User: fmt.Sprintf("telegram:%d", i%50), Name: "someone",
			Text: text, Time: base.Add(time.Duration(i) * time.Second), Tokens: bot.ApproxTokens(text)}
	}
	return turns
}

// BenchmarkWindow loads a 1500-token window from histories of 10, 10,000
// and 1,000,000 turns: the cost should be flat.
func BenchmarkWindow(b *testing.B) {
	for _, n := range []int{10, 10_000, 1_000_000} {
		b.Run(fmt.Sprint("turns=", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("1M-turn setup skipped in -short mode")
			}
			s, err := Open(b.TempDir() + "/bench.db")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.bulkAppend("telegram/1", benchTurns(n)); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			var got int
			for b.Loop() {
				w, err := s.Window(ctx, "telegram/1", 1500)
				if err != nil {
					b.Fatal(err)
				}
				got = len(w)
			}
			b.ReportMetric(float64(got), "turns/window")
		})
	}
}

// BenchmarkAppend measures a durable (fsynced) append, alone and from
// concurrent goroutines whose appends share commits through Batch.
func BenchmarkAppend(b *testing.B) {
	text := "How long does shipping to Canada take for a subscription order?"
	turn := bot.Turn{Role: bot.RoleUser, User: "telegram:1", Text: text, Tokens: bot.ApproxTokens(text)}
	b.Run("single", func(b *testing.B) {
		s := openTest(b)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Append(ctx, "telegram/1", turn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := openTest(b)
		ctx := context.Background()
		var g atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			conv := fmt.Sprint("telegram/", g.Add(1))
			for pb.Next() {
				if _, err := s.Append(ctx, conv, turn); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkKBSearch searches 10,000 passages.
func BenchmarkKBSearch(b *testing.B) {
	s := openTest(b)
	kb := s.KB()
	ctx := context.Background()
	vocab := strings.Fields(`coffee bean roast grinder espresso filter kettle subscription pause skip
		shipping delivery parcel tracking refund return damaged order account app login password
		gift card discount origin ethiopia colombia brazil kenya washed natural honey acidity body
		sweetness crema milk latte cappuccino water temperature ratio brew time bloom pour over`)
	zh := []rune("咖啡豆烘焙订阅配送退货退款包裹快递应用账户密码研磨手冲浓缩")
	const docs, perDoc = 100, 100
	for d := range docs {
		var sb strings.Builder
		for p := range perDoc {
			fmt.Fprintf(&sb, "## Section %d\n\n", p)
			for w := range 120 {
				sb.WriteString(vocab[(d*7+p*13+w*w)%len(vocab)])
				sb.WriteByte(' ')
				if w%20 == 0 {
					sb.WriteString(string(zh[(d+p+w)%len(zh)]))
					sb.WriteString(string(zh[(d+2*p+w)%len(zh)]))
					sb.WriteByte(' ')
				}
			}
			sb.WriteString(".\n\n")
		}
		if _, err := kb.IngestFile(ctx, "bench", fmt.Sprintf("doc%03d.md", d), []byte(sb.String())); err != nil {
			b.Fatal(err)
		}
	}
	if kb.Len() != docs*perDoc {
		b.Fatalf("indexed %d passages, want %d", kb.Len(), docs*perDoc)
	}
	for _, q := range []string{"how do I pause my coffee subscription", "退货 退款"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ps, err := kb.Search(ctx, q, 5)
				if err != nil || len(ps) != 5 {
					b.Fatalf("search = %d, %v", len(ps), err)
				}
			}
		})
	}
}
