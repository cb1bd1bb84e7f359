# Developer entry points. `make run` and `make test` work on a fresh Debian/Ubuntu machine
# with rustup: they install what they need first (idempotently).

# cmake, g++ (with its OpenMP runtime, libgomp) and libopenblas-dev (BLAS and LAPACK) build and
# link the bundled FAISS of the `faiss` crate's `static` feature (host/src/vectors.rs).
APT_PACKAGES := cmake pkg-config poppler-utils g++ libopenblas-dev
WASM_TARGET := wasm32-wasip2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test lint ci

## Installs the system packages and the Rust target the build needs (skips what is present).
setup:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

## Serves the API on http://127.0.0.1:8000 with SQLite and files in ./data.
run: setup
	cargo run -p caravan-host --bin caravan -- serve

## Runs every test. PostgreSQL and Redis variants run when TEST_DATABASE_URL / REDIS_URL are set.
test: setup
	cargo test --workspace

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

ci: lint test
