# syntax=docker/dockerfile:1
# Builds the storeplatform binary (api, worker) into a distroless, non-root image.
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
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/storeplatform"]
CMD ["api"]
