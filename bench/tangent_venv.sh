#!/usr/bin/env bash
# Google's Tangent (0.1.9, 2018) for the benchmark's Tangent column, in a virtual environment of its own.
#
# Usage: bash bench/tangent_venv.sh [DIR]   (default: $TMPDIR/s2sad-tangent, where the harness looks for it;
# elsewhere, point TANGENT_PYTHON at DIR/bin/python; TANGENT_BASE_PYTHON names the Python 3.7 to use).
# About 15 seconds.
#
# Why not `pip install tangent` in the project's Python 3.11: it resolves, but pulls tf-nightly, enum34 (which
# shadows the standard library's enum) and gast 0.7, and Tangent then fails to import (gast.Num is gone); with
# gast 0.2.2 it imports but fails on 3.11's AST while differentiating. Tangent runs on Python 3.7 with gast 0.2.2,
# NumPy 1.21 and its pure-Python dependencies, without its declared tf-nightly dependency, after two edits that
# make TensorFlow optional (it is used only by Tangent's tracing fallback and its TF extensions, neither of which
# the benchmark uses).
set -euo pipefail
dir="${1:-${TMPDIR:-/tmp}/s2sad-tangent}"
python37=""
for candidate in "${TANGENT_BASE_PYTHON:-}" "$HOME"/.pyenv/versions/3.7.*/bin/python python3.7; do
  if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 7)' 2>/dev/null; then
    python37="$candidate"
    break
  fi
done
if [ -z "$python37" ]; then echo "tangent_venv.sh: no Python 3.7 found (Tangent does not run on later versions)" >&2; exit 1; fi
"$python37" -m venv "$dir"
"$dir/bin/pip" install -q --no-deps "tangent==0.1.9" "gast==0.2.2" "numpy<1.22" "autograd==1.5" astor six future
site="$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/tangent"
"$dir/bin/python" - "$site" <<'EOF'
import sys
site = sys.argv[1]
edits = {
    "tracing.py": ("from tensorflow.python.eager.backprop import make_vjp\n",
                   "try:\n  from tensorflow.python.eager.backprop import make_vjp\nexcept ImportError:  # s2sad bench\n  make_vjp = None\n"),
    "__init__.py": ("from tangent.tf_extensions import *\n",
                    "try:  # s2sad bench: no TensorFlow\n  from tangent.tf_extensions import *\nexcept ImportError:\n  pass\n"),
}
for name, (old, new) in edits.items():
    path = site + "/" + name
    text = open(path).read()
    if old in text:
        open(path, "w").write(text.replace(old, new, 1))
EOF
"$dir/bin/python" -c "import tangent; print('Tangent ready: $dir/bin/python (TANGENT_PYTHON)')"
