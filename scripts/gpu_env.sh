#!/usr/bin/env bash
# On a GPU machine that reaches no package registry (`make gpu-check`): a venv over the image's
# Python (its torch, numpy, scipy, ...), the wheels of `make gpu-wheels` (.gpu-wheels/,
# carried with the working tree) installed with --no-index --no-deps, then scripts/gpu_check.py
# with the given arguments. Python 3.12 image; see README "GPU".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${XLTT_GPU_VENV:-/tmp/xltt-gpu-venv}
WHEELS=${XLTT_GPU_WHEELS:-.gpu-wheels}
if ! ls "$WHEELS"/*.whl > /dev/null 2>&1; then
  echo "gpu_env: no wheels in $WHEELS: run \`make gpu-wheels\` on a machine with PyPI, carry it" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv --system-site-packages --without-pip "$VENV"
  site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  # The image's python3 may itself be a venv (/opt/torch/.venv): --system-site-packages then
  # reaches only the base interpreter, so add the image's site-packages too, after the venv's
  # own (whose transformers 4.43.4, tokenizers, huggingface-hub shadow the image's).
  "$PY" -c "import site, sys; sys.prefix != sys.base_prefix and print('\n'.join(site.getsitepackages()))" |
    while read -r dir; do echo "import site; site.addsitedir('$dir')"; done > "$site/xltt_image_site.pth"
  # Start-up quietening as in scripts/setup_env.sh (allennlp_models' offline nltk.download).
  echo "import os, warnings; os.environ.setdefault('NLTK_DATA', '$PWD/fixtures/nltk_data'); warnings.filterwarnings('ignore', message='pkg_resources is deprecated')" > "$site/xltt_plugin_env.pth"
  if ! "$PY" -m pip --python "$VENV/bin/python" install --quiet --no-index --no-deps --no-compile \
      "$WHEELS"/*.whl 2>&1 | grep -v "outside environment"; then
    true
  fi
  # pip before 22.3 has no --python: install into the venv's folder instead.
  if ! "$VENV/bin/python" -c "import allennlp" 2> /dev/null; then
    "$PY" -m pip install --quiet --no-index --no-deps --no-compile --target "$site" "$WHEELS"/*.whl
  fi
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
"$VENV/bin/python" - << 'PY'
import allennlp_models.rc, huggingface_hub, tokenizers, torch, transformers
from allennlp.version import VERSION
import xltt_plugin  # noqa: F401
print(
    f"gpu_env: python {__import__('sys').version.split()[0]}, torch {torch.__version__} "
    f"(cuda {torch.version.cuda}, available {torch.cuda.is_available()}), transformers "
    f"{transformers.__version__}, tokenizers {tokenizers.__version__}, huggingface-hub "
    f"{huggingface_hub.__version__}, allennlp {VERSION}"
)
PY
exec "$VENV/bin/python" scripts/gpu_check.py "$@"
