# syntax=docker/dockerfile:1
# Build: a static binary (no cgo) with the module cache reused between builds.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/chorus ./cmd/chorus \
 && mkdir -p /out/data

# Run: distroless static, non-root, state under /data.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chorus /usr/local/bin/chorus
# The data dir must exist and belong to the runtime user before it becomes a
# volume, or a fresh volume is root-owned and bbolt can't create its file.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /src/configs/knowledge /etc/chorus/knowledge
ENV CHORUS_DATA_DIR=/data \
    CHORUS_KB_DIR=/etc/chorus/knowledge \
    CHORUS_ADMIN_LISTEN=0.0.0.0:9464 \
    CHORUS_WEB_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 9464 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/chorus"]
CMD ["serve"]
