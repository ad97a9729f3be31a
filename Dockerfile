# syntax=docker/dockerfile:1
# whisk for scheduled jobs: docs/deploy.md. Build with `docker build -t whisk .`.

ARG RUST_VERSION=1
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# What the build reads: the manifest and lockfile, the code (src/sandbox/data/example.yaml is
# embedded from there), and recipes/ (`whisk demo` embeds recipes/tibco/enable-api-access.yaml).
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY recipes ./recipes
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin whisk \
    && install -m 0755 target/release/whisk /usr/local/bin/whisk

FROM debian:bookworm-slim
# CA certificates for HTTPS (the system's store, as whisk reads it); a user with a fixed UID
# for runAsUser; /out for reports, to be mounted writable under a read-only root. The CA
# certificates are the newest, not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 whisk \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin whisk \
    && install -d -o 10001 -g 10001 /out
COPY --from=build /usr/local/bin/whisk /usr/local/bin/whisk
COPY recipes /recipes
USER 10001:10001
WORKDIR /out
ENTRYPOINT ["whisk"]
CMD ["--help"]
