package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"

	"github.com/chorusbot/chorus/bot"
)

// OpenAIServer is a fake OpenAI-compatible chat-completions server on
// 127.0.0.1 whose answers come from a FakeLLM: the same time to first
// token, pace, reply and failures, sent as the real wire format (a JSON
// completion, or chat.completion.chunk server-sent events ending with a
// usage chunk and "data: [DONE]"). A run talks to it through the real
// llm.Client, so that the client's work (masking, request encoding,
// stream decoding, unmasking) is measured with the engine's. A failure the
// FakeLLM decides is a 503 with an OpenAI error body.
//
// It keeps its own cost small: it reads the request body only to find the
// last user message (for the FakeLLM's query) and whether it streams.
type OpenAIServer struct {
	// URL is the API root to configure as the client's base URL
	// (http://127.0.0.1:PORT/v1).
	URL string

	llm *FakeLLM
	srv *httptest.Server
}

// NewOpenAIServer starts the fake server answering with f.
func NewOpenAIServer(f *FakeLLM) *OpenAIServer {
	s := &OpenAIServer{llm: f}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	return s
}

// Close stops the server.
func (s *OpenAIServer) Close() { s.srv.Close() }

var (
	roleUser  = []byte(`"role":"user"`)
	contentIs = []byte(`"content":"`)
	streamOn  = []byte(`"stream":true`)
)

// lastUserText is the text of the last user message of a request body,
// undecoded (escapes stay as written), or "".
func lastUserText(body []byte) string {
	i := bytes.LastIndex(body, roleUser)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	j := bytes.Index(rest, contentIs)
	if j < 0 {
		return ""
	}
	rest = rest[j+len(contentIs):]
	for k := 0; k < len(rest); k++ {
		switch rest[k] {
		case '\\':
			k++
		case '"':
			return string(rest[:k])
		}
	}
	return string(rest)
}

func (s *OpenAIServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeAPIError(w, http.StatusNotFound, "not found")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "unreadable body")
		return
	}
	req := bot.Request{Query: lastUserText(body)}
	if !bytes.Contains(body, streamOn) {
		resp, err := s.llm.Complete(r.Context(), req)
		if err != nil {
			writeAPIError(w, http.StatusServiceUnavailable, "bench: unavailable")
			return
		}
		out, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": resp.Model,
			"choices": []map[string]any{{"index": 0, "message": map[string]string{"role": "assistant", "content": resp.Text}, "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": resp.Usage.PromptTokens, "completion_tokens": resp.Usage.CompletionTokens, "total_tokens": resp.Usage.Total()},
		})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
		return
	}
	st, err := s.llm.Stream(r.Context(), req)
	if err != nil {
		writeAPIError(w, http.StatusServiceUnavailable, "bench: unavailable")
		return
	}
	defer st.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	var buf []byte
	event := func(content string, finish bool, usage *bot.Usage) {
		buf = append(buf[:0], `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"`...)
		buf = append(buf, "bench"...)
		buf = append(buf, `","choices":[`...)
		switch {
		case usage != nil:
		case finish:
			buf = append(buf, `{"index":0,"delta":{},"finish_reason":"stop"}`...)
		default:
			buf = append(buf, `{"index":0,"delta":{"content":`...)
			buf = strconv.AppendQuote(buf, content)
			buf = append(buf, `},"finish_reason":null}`...)
		}
		buf = append(buf, ']')
		if usage != nil {
			buf = append(buf, `,"usage":{"prompt_tokens":`...)
			buf = strconv.AppendInt(buf, int64(usage.PromptTokens), 10)
			buf = append(buf, `,"completion_tokens":`...)
			buf = strconv.AppendInt(buf, int64(usage.CompletionTokens), 10)
			buf = append(buf, `,"total_tokens":`...)
			buf = strconv.AppendInt(buf, int64(usage.Total()), 10)
			buf = append(buf, '}')
		}
		buf = append(buf, "}\n\n"...)
		_, _ = w.Write(buf)
		_ = rc.Flush()
	}
	for {
		delta, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The run is over (its context ended): hang up mid-stream, as
			// a server that went away would.
			return
		}
		if delta != "" {
			event(delta, false, nil)
		}
	}
	event("", true, nil)
	u := st.Usage()
	event("", false, &u)
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	_ = rc.Flush()
}

func writeAPIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "server_error", "param": nil, "code": nil}})
	_, _ = w.Write(b)
}
