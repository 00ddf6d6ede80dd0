# syntax=docker/dockerfile:1
# Dependencies are built in a layer of their own (cargo-chef's recipe lists only the
# manifests and lockfile), so a change to the source rebuilds the crate, not its
# dependencies.
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS plan
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=plan /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
# The same command CI runs.
RUN cargo build --release --locked \
 && install -D -m 0755 target/release/appstream-local /out/appstream-local

# Run: glibc and CA roots only, no shell, a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/appstream-local /usr/local/bin/appstream-local
# The address file lets the health check find the server on whatever port it was given
# (`docker run IMAGE --port 4609` as well as APPSTREAM_LOCAL_PORT).
ENV APPSTREAM_LOCAL_HOST=0.0.0.0 \
    APPSTREAM_LOCAL_PORT=4599 \
    APPSTREAM_LOCAL_ADDR_FILE=/tmp/appstream-local.addr \
    RUST_LOG=info
EXPOSE 4599
USER nonroot:nonroot
# The binary probes itself; the image has no curl or shell to do it.
HEALTHCHECK --interval=10s --timeout=4s --start-period=2s --retries=3 \
  CMD ["/usr/local/bin/appstream-local", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/appstream-local"]
