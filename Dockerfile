# The meshlet sidecar image: `proxy` by default, `init-iptables` for the init container that
# `meshlet inject` adds. Never built on the project's machines (no container registry there): see
# README "Kubernetes". Build: docker build -t meshlet:0.1.0 .
FROM node:22-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/meshlet
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
# npm ci builds the addon (node-gyp) and brings Bun from the npm registry; then only runtime deps stay.
RUN npm ci --no-audit --no-fund \
 && cp "$(readlink -f node_modules/.bin/bun)" /usr/local/bin/bun \
 && npm prune --omit=dev --no-audit --no-fund

FROM debian:bookworm-slim
# iptables brings iptables-nft and iptables-legacy (and the ip6tables variants) for init-iptables.
RUN apt-get update && apt-get install -y --no-install-recommends iptables ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/meshlet
COPY --from=build /usr/local/bin/bun /usr/local/bin/bun
COPY --from=build /opt/meshlet/node_modules ./node_modules
COPY --from=build /opt/meshlet/build/Release/meshlet.node ./build/Release/meshlet.node
COPY package.json ./
COPY src ./src
# The root filesystem is read-only in the pod: no transpiler cache on disk.
ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
# As bin/meshlet sets it: no JSC helper thread pre-faulting GC blocks (~7% CPU per HTTP/2 request at -c100).
ENV BUN_JSC_useWarmUpMarkedBlocks=0
# The proxy's uid (MESHLET_PROXY_UID); the init container runs as root (runAsUser: 0).
USER 2102
EXPOSE 4143 4191
ENTRYPOINT ["/usr/local/bin/bun", "/opt/meshlet/src/cli.ts"]
CMD ["proxy"]
