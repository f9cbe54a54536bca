# syntax=docker/dockerfile:1
# Builds the storeplatform binary (api, worker) and the dashboard into a
# distroless, non-root image.
# The dashboard is the same files on every architecture: it is built once, on
# the builder's own platform, rather than under emulation for each target.
FROM --platform=$BUILDPLATFORM node:20-bookworm AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/storeplatform ./cmd/storeplatform

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/storeplatform /usr/local/bin/storeplatform
COPY charts /charts
COPY --from=web /web/dist /web
ENV WEB_DIR=/web
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/storeplatform"]
CMD ["api"]
