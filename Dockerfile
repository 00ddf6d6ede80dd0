# syntax=docker/dockerfile:1
# Build: the same command CI runs.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
 && install -D -m 0755 target/release/appstream-local /out/appstream-local

# Run: glibc and CA roots only, no shell, a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/appstream-local /usr/local/bin/appstream-local
ENV APPSTREAM_LOCAL_HOST=0.0.0.0 \
    APPSTREAM_LOCAL_PORT=4599 \
    RUST_LOG=info
EXPOSE 4599
USER nonroot:nonroot
# The binary probes itself; the image has no curl or shell to do it.
HEALTHCHECK --interval=10s --timeout=4s --start-period=2s --retries=3 \
  CMD ["/usr/local/bin/appstream-local", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/appstream-local"]
