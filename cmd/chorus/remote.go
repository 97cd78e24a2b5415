package main

// Commands while serve runs. The bbolt file has one owner: while `chorus
// serve` holds it, `chorus kb`, `export` and `forget` can't open it. They
// ask the running serve instead, over its admin listener: serve writes a
// fresh random token and the listener's address to adminTokenFile in the
// data directory (mode 0600, so only the account that runs chorus, or root,
// can read it), and accepts POST pathCLI only from a loopback address with
// that token (compared in constant time). The command runs inside serve,
// on its store and engine, through the same functions the command line
// uses, and its output comes back as it would have been printed.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

const (
	// adminTokenFile, in the data directory, holds the running serve's
	// admin address and the token its pathCLI endpoint accepts.
	adminTokenFile = "admin.token"
	// pathCLI is where serve's admin listener runs commands.
	pathCLI = "/cli"
	// cliTimeout bounds one command run by serve (a large ingest).
	cliTimeout = 30 * time.Minute
	// maxCLIRequest bounds a request's body.
	maxCLIRequest = 64 << 10
)

// adminToken is the content of adminTokenFile.
type adminToken struct {
	Addr  string `json:"addr"`
	Token string `json:"token"`
}

// cliRequest is a command for the running serve, its flags parsed and
// checked by the client.
type cliRequest struct {
	// Command is kb, export or forget.
	Command string `json:"command"`
	// Args are kb's positional arguments (an ingest path absolute).
	Args []string `json:"args,omitempty"`
	// K is kb search's -k.
	K int `json:"k,omitempty"`
	// User is export's and forget's --user.
	User string `json:"user,omitempty"`
}

// cliReply is what the command printed and, when it failed, why.
type cliReply struct {
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
	// Usage marks an error in how the command was called (exit status 2).
	Usage bool `json:"usage,omitempty"`
}

// localOrServe runs local on the store. When a serve that left its admin
// token in the data directory answers, it holds the file: that serve runs
// req instead (asked first, so as not to wait for the file's lock). A
// token left by a serve that is gone is ignored.
func localOrServe(ctx context.Context, g *globalFlags, env *cliEnv, req cliRequest, local func(*Config, *slog.Logger, memory.Backend) error) error {
	cfg, err := loadConfig(g, env)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.stderr, env.redactor())
	if tok, ok := readAdminToken(cfg.DataDir); ok {
		if reached, err := askServe(ctx, log, env, tok, req); reached {
			return err
		}
	}
	st, err := openStore(cfg, log)
	if errors.Is(err, memory.ErrInUse) {
		// chat, another command, or a serve without an admin listener.
		return fmt.Errorf("%w; a running chorus serve with admin.listen set would have run %s itself", err, req.Command)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return local(cfg, log, st)
}

// readAdminToken reads the admin token a serve left in dir.
func readAdminToken(dir string) (adminToken, bool) {
	var tok adminToken
	b, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	if err != nil || json.Unmarshal(b, &tok) != nil || tok.Addr == "" || tok.Token == "" {
		return adminToken{}, false
	}
	return tok, true
}

// askServe sends req to the serve tok names and prints its output. It
// reports reached false, having printed nothing, when no serve took the
// command (nothing listens there any more, or something else does).
func askServe(ctx context.Context, log *slog.Logger, env *cliEnv, tok adminToken, req cliRequest) (reached bool, err error) {
	addr := loopbackAddr(tok.Addr)
	body, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+pathCLI, bytes.NewReader(body))
	if err != nil {
		return false, nil
	}
	hreq.Header.Set("Authorization", "Bearer "+tok.Token)
	hreq.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(hreq)
	if err != nil {
		log.Debug("no chorus serve at the address its token gives", "admin", addr, "err", err)
		return false, nil
	}
	defer res.Body.Close()
	var reply cliReply
	if res.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(res.Body, 1<<30)).Decode(&reply) != nil {
		log.Debug("the address in the admin token did not take the command", "admin", addr, "status", res.Status)
		return false, nil
	}
	log.Info("ran by the chorus serve that holds the data directory", "command", req.Command, "admin", addr)
	io.WriteString(env.stdout, reply.Output)
	switch {
	case reply.Usage:
		return true, fmt.Errorf("%w: %s", errUsage, strings.TrimPrefix(reply.Error, "usage: "))
	case reply.Error != "":
		return true, errors.New(reply.Error)
	}
	return true, nil
}

// loopbackAddr is addr with an unspecified host (":9464", "0.0.0.0:9464")
// made loopback, since serve takes commands from loopback only.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if ip != nil && ip.To4() == nil {
			return net.JoinHostPort("::1", port)
		}
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// newAdminToken returns a fresh random token.
func newAdminToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeAdminToken writes the admin address and token to the data
// directory, readable by the owner only, replacing a stale one.
func writeAdminToken(dir, addr, token string) (string, error) {
	path := filepath.Join(dir, adminTokenFile)
	b, _ := json.Marshal(adminToken{Addr: addr, Token: token})
	tmp, err := os.CreateTemp(dir, adminTokenFile+".*")
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(b)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return path, nil
}

// removeAdminToken removes the token file at path if it still holds token
// (a later serve may have replaced it).
func removeAdminToken(path, token string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var tok adminToken
	if json.Unmarshal(b, &tok) == nil && tok.Token == token {
		os.Remove(path)
	}
}

// cliHandler runs commands for the command line inside serve, on a's
// store and engine. It takes them from loopback only, with token.
func cliHandler(a *app, token string) http.Handler {
	red := bot.NewRedactor(a.cfg.secrets()...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			http.Error(w, "commands are taken from loopback only", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			a.log.Warn("admin command refused: wrong token", "remote", r.RemoteAddr)
			http.Error(w, "wrong token", http.StatusUnauthorized)
			return
		}
		var req cliRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCLIRequest)).Decode(&req); err != nil {
			http.Error(w, "malformed command", http.StatusBadRequest)
			return
		}
		// A large ingest takes longer than the admin server's write timeout.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(cliTimeout))
		ctx, cancel := context.WithTimeout(r.Context(), cliTimeout)
		defer cancel()
		var out bytes.Buffer
		err := runCLIRequest(ctx, a, &out, req)
		reply := cliReply{Output: out.String()}
		if err != nil {
			reply.Error = red.RedactError(err)
			reply.Usage = errors.Is(err, errUsage)
		}
		a.log.Info("admin command run", "command", req.Command, "ok", err == nil)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(reply)
	})
}

// runCLIRequest runs req on a as the command line would on the store.
func runCLIRequest(ctx context.Context, a *app, out io.Writer, req cliRequest) error {
	switch req.Command {
	case "kb":
		return kbCommand(ctx, out, a.store.KB(), req.Args, max(req.K, 1))
	case "export", "forget":
		if _, _, ok := bot.SplitUserKey(req.User); !ok {
			return fmt.Errorf("%w: --user must be PLATFORM:ID, got %q", errUsage, req.User)
		}
		if req.Command == "export" {
			return exportUser(ctx, out, a.engine, req.User)
		}
		return forgetUser(ctx, out, a.engine, req.User)
	}
	return fmt.Errorf("%w: serve does not run %q for the command line", errUsage, req.Command)
}
