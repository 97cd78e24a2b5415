// Package web is Chorus's public HTTP listener and the console for
// community managers served on it.
//
// The listener (web.listen, default 127.0.0.1:8080) is separate from the
// admin server (/metrics, /healthz, /readyz): the admin server describes
// the deployment and stays on loopback, while this one is what an
// operator puts behind a TLS proxy for people to reach. web.base_url is
// the public address links are built from.
//
// Other packages mount their public handlers on the same listener through
// cmd/chorus with (*Server).Handle, using Go 1.22 ServeMux patterns
// ("GET /l/{code}", "POST /conversions"). The console claims "/console/"
// and "/static/" under the same mux.
//
// The package is adapter-side: it reaches the engine only through the
// narrow read and write APIs cmd/chorus hands it, never through engine
// internals.
package web
