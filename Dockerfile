# The app image used by docker-compose.yml: build in one stage, run in a slim one.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml clippy.toml ./
COPY src src
COPY migrations migrations
COPY templates templates
COPY static static
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 curl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/nave nave && mkdir -p /var/lib/nave && chown nave /var/lib/nave
COPY --from=build /src/target/release/nave /usr/local/bin/nave
USER nave
WORKDIR /var/lib/nave
ENV NAVE_BIND=0.0.0.0:8080 NAVE_DATA_DIR=/var/lib/nave
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
CMD ["nave", "serve"]
