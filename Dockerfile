# syntax=docker/dockerfile:1
# The sealkit controller image: `sealkit controller` from the wheel built out of this repo.
#
# The base is pinned to an exact version tag. Release step (docs/deploy.md): resolve the tag's
# digest once (`docker buildx imagetools inspect python:3.11.13-slim-bookworm`) and build with
#   --build-arg PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:<digest>
# so the release is reproducible; CI here cannot reach an image registry.
# CI exercises the same install path without Docker: tests/charts/test_image_install.py builds the
# wheel, installs it into a clean venv and starts the entrypoint against the Kubernetes emulator.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---- build: the wheel, then a venv with it and its dependencies (binary wheels only) ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sealkit ./sealkit
COPY cli ./cli
COPY controller ./controller
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/sealkit \
 && /opt/sealkit/bin/pip install --only-binary=:all: /wheels/sealkit-*.whl \
 && /opt/sealkit/bin/pip uninstall --yes pip \
 && /opt/sealkit/bin/sealkit controller --help > /dev/null

# ---- runtime: the base image, the venv, a numeric non-root user; no compilers, no pip cache ----
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="sealkit controller" \
      org.opencontainers.image.description="Unseals Bitnami-compatible SealedSecrets; serves the sealing certificate" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/sealkit /opt/sealkit
# The root filesystem is read-only in the chart: no byte-code writes, temp files go to /tmp (an emptyDir).
ENV PATH=/opt/sealkit/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["sealkit", "controller"]
