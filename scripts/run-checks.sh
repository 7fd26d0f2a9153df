#!/usr/bin/env bash
# Every quality gate, in order; stops at the first failure. Expects .venv (make test builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

echo "== ruff"; "$bin/ruff" check .
echo "== mypy --strict"; "$bin/mypy"
echo "== import-linter"; "$bin/lint-imports"
echo "== pytest"; "$bin/pytest" "$@"
