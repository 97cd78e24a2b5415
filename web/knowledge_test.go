package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// upload posts a multipart form with one file, as a browser does.
func upload(t *testing.T, c *http.Client, u, csrf, name string, content []byte) (*http.Response, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("csrf", csrf)
	fw, err := mw.CreateFormFile("doc", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	resp, err := c.Post(u, mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestKnowledgeUploadRefusals(t *testing.T) {
	rr := newReviewRig(t)
	b, csrf := rr.signIn(t, "2")
	u := rr.srv.URL + "/console/knowledge/upload"
	tests := []struct {
		name, file string
		size       int
		status     int
		want       string
	}{
		{"path", "../../etc/passwd.md", 10, http.StatusBadRequest, "contains a path"},
		{"backslash", `..\secret.md`, 10, http.StatusBadRequest, "contains a path"},
		{"format", "photo.exe", 10, http.StatusBadRequest, "The knowledge base reads .md"},
		{"too large", "big.txt", MaxUpload + 1, http.StatusRequestEntityTooLarge, "larger than 50 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := upload(t, b, u, csrf, tt.file, bytes.Repeat([]byte("a"), tt.size))
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) || !strings.Contains(body, "othing was stored") {
				t.Errorf("upload %q = %d, want %d with %q\n%s", tt.file, resp.StatusCode, tt.status, tt.want, body)
			}
		})
	}
	if len(rr.kb.files) != 0 {
		t.Errorf("refused uploads were stored: %v", len(rr.kb.files))
	}
	// Without the CSRF token: refused, nothing stored.
	resp, _ := upload(t, b, u, "", "faq.md", []byte("# FAQ"))
	if resp.StatusCode != http.StatusForbidden || len(rr.kb.files) != 0 {
		t.Errorf("upload without CSRF = %d", resp.StatusCode)
	}
}

func TestKnowledgeUploadDeleteAndAsk(t *testing.T) {
	rr := newReviewRig(t)
	b, csrf := rr.signIn(t, "2")
	resp, body := upload(t, b, rr.srv.URL+"/console/knowledge/upload", csrf, "opening.md", []byte("# Opening hours\nWe open at 8."))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload = %d\n%s", resp.StatusCode, body)
	}
	if string(rr.kb.files["uploads/opening.md"]) != "# Opening hours\nWe open at 8." {
		t.Errorf("stored %q", rr.kb.files)
	}
	_, body = get(t, b, rr.srv.URL+"/console/knowledge?done=uploaded")
	if !strings.Contains(body, "opening.md") || !strings.Contains(body, "Uploaded") {
		t.Errorf("the page does not list the upload:\n%s", body)
	}
	_, body = get(t, b, rr.srv.URL+"/console/knowledge?q="+url.QueryEscape("when do you open?"))
	for _, want := range []string{"We open at 8.", "preview of when do you open?", "faq.md"} {
		if !strings.Contains(body, want) {
			t.Errorf("the answer box lacks %q", want)
		}
	}
	// Edit it: the text added in the console comes back in the editor,
	// and the new text replaces the document.
	_, body = get(t, b, rr.srv.URL+"/console/knowledge/edit?path=uploads/opening.md")
	if !strings.Contains(body, "We open at 8.") {
		t.Errorf("editor:\n%s", body)
	}
	resp, _ = post(t, b, rr.srv.URL+"/console/knowledge/edit", url.Values{"csrf": {csrf}, "path": {"uploads/opening.md"},
		"content": {"# Opening hours\r\nWe open at 7."}})
	if resp.StatusCode != http.StatusSeeOther || string(rr.kb.files["uploads/opening.md"]) != "# Opening hours\nWe open at 7." {
		t.Errorf("edit = %d, %q", resp.StatusCode, rr.kb.files["uploads/opening.md"])
	}
	if resp, _ := get(t, b, rr.srv.URL+"/console/knowledge/edit?path=hours.md"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("editing a document of another source = %d", resp.StatusCode)
	}
	resp, _ = post(t, b, rr.srv.URL+"/console/knowledge/delete", url.Values{"csrf": {csrf}, "source": {"console"}, "path": {"uploads/opening.md"}})
	if resp.StatusCode != http.StatusSeeOther || len(rr.kb.docs) != 0 {
		t.Errorf("delete = %d, docs %v", resp.StatusCode, rr.kb.docs)
	}
	var audited int
	for _, e := range rr.Audit.Entries("") {
		if e.Actor == "tg:2" && strings.HasPrefix(e.Rule, "kb: ") {
			audited++
		}
	}
	if audited != 3 {
		t.Errorf("%d kb changes audited, want 3", audited)
	}
}
