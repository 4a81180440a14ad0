# netwatch: the eBPF network agent as a container image.
#   build:  docker build -t netwatch .        (the build reads /sys/kernel/btf/vmlinux of the build host
#                                              to generate vmlinux.h; the CO-RE objects then load on any
#                                              kernel with BTF)
#   run:    see README.md, "Docker" — it needs host pid/network, /sys mounts and BPF capabilities.
# BASE is any Debian bookworm image with Node.js 20 and npm (the tests build from a debootstrap-made one).
ARG BASE=node:20-bookworm-slim

# ---- build: BPF objects (clang, bpftool) and the TypeScript ----
FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends clang llvm libbpf-dev bpftool make ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Behind a TLS-inspecting proxy, give its CA bundle (mounted into the build) to npm:
#   --volume /etc/ssl/certs/ca-certificates.crt:/run/extra-ca.crt:ro --build-arg EXTRA_CA_CERTS=/run/extra-ca.crt
ARG EXTRA_CA_CERTS=
RUN if [ -n "$EXTRA_CA_CERTS" ]; then export NODE_EXTRA_CA_CERTS="$EXTRA_CA_CERTS" npm_config_cafile="$EXTRA_CA_CERTS"; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bpf ./bpf
COPY otel ./otel
COPY src ./src
COPY test ./test
RUN make -s -C bpf && npx tsc -p . \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: libbpf and the built agent, nothing else ----
FROM ${BASE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# libbpf1 for the agent (koffi loads libbpf.so.1); iproute2 for TC; ca-certificates for OTLP over TLS.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libbpf1 iproute2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/netwatch
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/package.json ./dist/package.json
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/bpf ./dist/bpf
COPY config/agent.yaml /etc/netwatch/agent.yaml
RUN chmod 0755 dist/src/cli/main.js && ln -s /opt/netwatch/dist/src/cli/main.js /usr/local/bin/netwatch \
 && netwatch validate -c /etc/netwatch/agent.yaml >/dev/null
# In a container the server must listen beyond the container's loopback only with host networking
# (the default here: run with --network host); 9465 = service.server, 9464 = a prometheus exporter.
EXPOSE 9465
STOPSIGNAL SIGTERM
ENTRYPOINT ["netwatch", "run", "-c", "/etc/netwatch/agent.yaml"]
