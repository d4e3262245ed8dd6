# syntax=docker/dockerfile:1
# The collectkit example agent as a container image:
#
#   docker build --build-arg VERSION=0.2.0 -t collectkit-agent .
#   docker run -d --name collectkit -p 9529:9529 --stop-timeout 30 \
#     -e COLLECTKIT_TOKEN=secret -e COLLECTKIT_SINK_URL=http://vm:8428/write \
#     -v collectkit-state:/var/lib/collectkit collectkit-agent
#
# The configuration is packaging/container.toml at /etc/collectkit/agent.toml
# plus any *.conf / *.toml mounted into /etc/collectkit/conf.d; Python
# collectors go in /etc/collectkit/python.d. `docker kill -s HUP` reloads.

ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=bookworm

FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO off: a static binary that needs nothing from the runtime image.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=collectkit-agent/${VERSION}" \
      -o /out/collectkit-agent ./examples/agent

FROM debian:${DEBIAN_RELEASE}-slim
# python3-requests: DataKit collector scripts import requests.
# ca-certificates: forwarding to https stores. tini: PID 1 that reaps
# orphaned grandchildren of the collectors and forwards signals (SIGTERM
# for a clean stop, SIGHUP for a reload) to the agent.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-requests ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid, so that a volume or bind mount can be chowned for it.
RUN groupadd --system --gid 10001 collectkit \
 && useradd --system --uid 10001 --gid collectkit --home-dir /var/lib/collectkit \
      --shell /usr/sbin/nologin collectkit \
 && install -d -o collectkit -g collectkit -m 0750 /var/lib/collectkit \
 && install -d -m 0755 /etc/collectkit/conf.d /etc/collectkit/python.d
COPY --from=build /out/collectkit-agent /usr/bin/collectkit-agent
COPY packaging/container.toml /etc/collectkit/agent.toml

USER collectkit:collectkit
WORKDIR /var/lib/collectkit
ENV HOME=/var/lib/collectkit
# The forwarder's on-disk buffer (/var/lib/collectkit/forward): points
# acknowledged to clients but not yet delivered. Keep it on a volume so
# that a new container delivers what the old one accepted.
VOLUME ["/var/lib/collectkit"]
EXPOSE 9529

# /health needs no token and answers 200 while the agent serves requests.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python3", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9529/health', timeout=4).status == 200 else 1)"]

# The agent needs up to 10s for requests in flight and 5s for each
# collector to stop after SIGTERM, longer than docker stop's default 10s:
# run with --stop-timeout 30 (compose: stop_grace_period: 30s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/bin/collectkit-agent", "-listen", "0.0.0.0:9529"]
CMD ["-config", "/etc/collectkit/agent.toml", "-config-dir", "/etc/collectkit/conf.d"]
