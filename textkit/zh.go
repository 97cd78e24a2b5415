package textkit

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

var (
	//go:embed data/zh_dict.txt
	zhDict string
	//go:embed data/zh_extra.txt
	zhExtra string
)

// extraFreq is the frequency given to the words of zh_extra.txt: about
// that of a common word in zh_dict.txt, so they win over splitting.
const extraFreq = "2000"

var (
	segOnce sync.Once
	seg     gse.Segmenter
)

// LoadChinese loads the Chinese dictionary now rather than on the first
// Chinese text. It is cheap to call again.
func LoadChinese() {
	segOnce.Do(func() {
		seg.SkipLog = true
		var b strings.Builder
		b.Grow(len(zhExtra) * 2)
		for _, line := range strings.Split(zhExtra, "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			for _, w := range strings.Fields(line) {
				b.WriteString(w + " " + extraFreq + "\n")
			}
		}
		// Errors are impossible for strings (LoadDictStr reads no file);
		// a malformed line is skipped by gse.
		_ = seg.LoadDictStr(zhDict + "\n" + b.String())
	})
}

// segment splits a run of Han characters into words with the dictionary
// and, for what it lacks, the HMM.
func segment(run string) []string {
	if utf8.RuneCountInString(run) == 1 {
		return []string{run}
	}
	LoadChinese()
	return seg.Cut(run, true)
}

// zhStop are Chinese function words, pronouns, question words and chat
// particles: they say nothing about a topic and match nothing useful.
var zhStop = setOf(`的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 噢 喔 嗯 哈 么 嘛 啦 呗 哎 唉 额 呃
是 在 有 和 与 及 或 也 都 就 还 又 很 太 更 最 才 再 只 这 那 这个 那个 这些 那些 这样 那样 这里 那里 这儿 那儿
我 你 您 他 她 它 我们 你们 他们 她们 它们 咱们 大家 自己 人家 别人
什么 怎么 怎么办 怎样 怎么样 如何 为什么 为啥 啥 哪 哪里 哪儿 哪个 哪些 谁 几 多少 多久 多长时间 什么时候 几点 是否 能否
能 会 要 想 用 可以 能够 可能 应该 需要 得 请 请问 一下 一个 一些 一点 有没有 是不是 能不能 可不可以 会不会 要不要 没有 不 没 别
被 把 给 让 对 从 到 向 跟 于 为 以 说 做 个 之 其 所 而 但 但是 因为 所以 如果 然后 而且 或者 已经 现在 时候
知道 觉得 真的 非常 比较 不过 虽然 还是 就是 不是 还有 一直 一样 其实 当然 然而 并且 以及 等等 之类 关于 对于 上 下 里 中 后 前
一下子 好的 好吧 嗯嗯 哈哈 哈哈哈 呵呵 嘿嘿`)

// zhFiller are Chinese content words too general to name a topic.
var zhFiller = setOf(`多少钱 提供 使用 进行 办理 问题 东西 事情 个人 今天 明天 昨天 时间 感觉 看看 谢谢 感谢 朋友 一起 喜欢 大概 有点 有些 很多 所有 我们的 您好 你好`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
