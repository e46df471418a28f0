# syntax=docker/dockerfile:1
# The sealkit controller image: `sealkit controller` from the wheel built out of this repo, its
# dependencies installed from the hashed lock requirements/runtime.txt (refresh: `bash scripts/lock.sh`).
#
# The base is pinned to an exact version tag. Release step (docs/deploy.md): resolve the tag's
# digest once (`docker buildx imagetools inspect python:3.11.13-slim-bookworm`) and build with
#   --build-arg PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:<digest> --build-arg REVISION=$(git rev-parse HEAD)
# so the release is reproducible. CI builds this file unchanged without Docker (scripts/build-image.sh:
# buildah on a Debian bookworm base made by mmdebstrap, passed as PYTHON_IMAGE) and starts the image
# with the container spec the chart renders (tests/image/test_image_smoke.py).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---- build: the wheel, a venv with it and its locked dependencies (binary wheels only), the SBOM ----
FROM ${PYTHON_IMAGE} AS build
# The package version the labels below claim; the build fails if the wheel says otherwise.
ARG VERSION=0.1.0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Build tools (pip, setuptools, cyclonedx-bom) from their own lock, in a venv that stays in this stage.
COPY requirements ./requirements
RUN python -m venv /opt/build \
 && /opt/build/bin/python -m pip install --quiet --require-hashes --only-binary=:all: --no-deps \
        -r requirements/build-tools.txt
COPY pyproject.toml README.md ./
COPY sealkit ./sealkit
COPY cli ./cli
COPY controller ./controller
# The controller's venv has no pip: the build venv's pip installs into it (--python). Dependencies come
# from the lock only (--no-deps: nothing resolved here), then the wheel; `pip check` proves the lock complete.
# Never imported by the controller, so removed: the kubernetes client's asyncio copy (kubernetes.aio, about
# 70 MB with its byte-code) and the test suites some packages ship. Byte-code is compiled here, once: the
# root filesystem is read-only at run time. The SBOM (CycloneDX) lists what the venv holds.
RUN /opt/build/bin/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir /wheels . \
 && python -m venv --without-pip /opt/sealkit \
 && pip="/opt/build/bin/python -m pip --python /opt/sealkit/bin/python" \
 && $pip install --quiet --require-hashes --only-binary=:all: --no-deps -r requirements/runtime.txt \
 && $pip install --quiet --no-deps /wheels/sealkit-*.whl \
 && $pip check \
 && rm -rf /opt/sealkit/lib/python3*/site-packages/kubernetes/aio \
 && find /opt/sealkit/lib/python3*/site-packages -mindepth 2 -type d -name tests -prune -exec rm -rf {} + \
 && test "$(/opt/sealkit/bin/sealkit controller --version)" = "controller version: ${VERSION}" \
 && /opt/build/bin/cyclonedx-py environment --output-reproducible --output-format JSON \
        --pyproject pyproject.toml --mc-type application --output-file /opt/sealkit/sbom.cdx.json \
        /opt/sealkit/bin/python
# The image's user, resolvable by name (getpwuid) and without a home to write to.
RUN echo 'sealkit:x:65532:65532:sealkit controller:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'sealkit:x:65532:' >> /etc/group

# ---- runtime: the base image, the venv, a numeric non-root user; nothing built or installed here ----
FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sealkit controller" \
      org.opencontainers.image.description="Unseals Bitnami-compatible SealedSecrets; serves the sealing certificate" \
      org.opencontainers.image.source="https://github.com/sealkit/sealkit" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /etc/passwd /etc/group /etc/
COPY --from=build /opt/sealkit /opt/sealkit
# The root filesystem is read-only in the chart: no byte-code writes, temp files go to /tmp (an emptyDir),
# and HOME names a directory that does not exist, so nothing can depend on writing there.
ENV PATH=/opt/sealkit/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    HOME=/nonexistent
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["sealkit", "controller"]
