# The infrakit-manager image: two static binaries on an empty base.
#
# Build it with `make image` (or `.ci/run`), which first builds the binaries
# on the host with CGO_ENABLED=0 into build/image/ and uses that directory as
# the build context:
#
#   make static && docker build -f Dockerfile -t infrakit-manager:$(cat VERSION) build/image
#
# Why not a multi-stage build FROM golang: the CI machine reaches no
# container registry (only the Go module proxy and Debian's mirrors), so any
# FROM that needs a pull would fail there. FROM scratch needs no pull, and a
# static Go binary needs nothing else: no libc, no shell, no CA bundle (the
# manager talks to unix sockets, and to a Docker engine with the CA given by
# --tlscacert). The toolchain that builds the binaries is the host's, pinned
# by go.mod's go line.
FROM scratch

COPY infrakit-manager infrakit /usr/local/bin/

# Sockets and the os-mode store live in volumes; mount the plugin directory
# shared with the group plugin, and for swarm mode the engine's socket
# (/var/run/docker.sock).
ENV INFRAKIT_PLUGINS_DIR=/run/infrakit/plugins \
    INFRAKIT_STORE_DIR=/var/lib/infrakit/configs \
    INFRAKIT_LEADER_FILE=/var/lib/infrakit/leader
VOLUME ["/run/infrakit/plugins", "/var/lib/infrakit"]

# --metrics-addr is off by default; pass e.g. --metrics-addr 0.0.0.0:9913.
EXPOSE 9913

ENTRYPOINT ["/usr/local/bin/infrakit-manager"]
CMD ["--help"]
