# syntax=docker/dockerfile:1
#
# fullpass container image: built with the Rust toolchain, run on slim Debian as
# an unprivileged user, with tini as PID 1 so that SIGTERM reaches the daemon
# (which then finishes or releases its jobs within FULLPASS_SHUTDOWN_GRACE;
# give the container at least that long to stop: `docker stop -t 30`,
# Kubernetes terminationGracePeriodSeconds >= 30).
#
#   docker build -t fullpass .
#   docker run --rm -e DATABASE_URL=... -e SUPABASE_URL=... \
#       -e SUPABASE_SERVICE_ROLE_KEY=... -p 8080:8080 fullpass

FROM rust:1-bookworm AS builder
WORKDIR /build
# Stripped binary; set before the dependency build so both builds share a profile.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols

# Dependencies first, on placeholder sources: this layer is rebuilt only when
# Cargo.toml or Cargo.lock change, not on every source edit.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/dispatch.rs \
 && cargo build --release --locked \
 && rm -rf src benches

# The crate itself. Copied files keep their own timestamps, which may be older
# than the placeholder build: touch them so that cargo rebuilds fullpass.
COPY src ./src
# Cargo.toml names the benchmark; cargo needs its file to exist, not to build it.
COPY benches ./benches
COPY migrations ./migrations
COPY sql ./sql
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && ./target/release/fullpass --version

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 fullpass \
 && useradd --system --uid 10001 --gid fullpass \
        --home-dir /var/lib/fullpass --create-home --shell /usr/sbin/nologin fullpass
COPY --from=builder /build/target/release/fullpass /usr/local/bin/fullpass

USER 10001:10001
WORKDIR /var/lib/fullpass
ENV FULLPASS_HTTP_ADDR=0.0.0.0:8080 \
    FULLPASS_LOG_FORMAT=json
EXPOSE 8080
STOPSIGNAL SIGTERM
# Liveness only: readiness (database, listener) is /readyz, for the orchestrator.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/fullpass", "healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/fullpass"]
CMD ["run"]
