# @title Set-up: in Colab, fetch the course once; elsewhere, let `import helpers` find this clone
import os
import subprocess
import sys
from pathlib import Path

COURSE_REPO = "https://github.com/cnn-course/cnn-from-pixels"
COURSE_DIR = Path(os.environ.get("CNN_COURSE_DIR", "/content/cnn-from-pixels"))  # or a copy's
if "google.colab" in sys.modules and not (COURSE_DIR / "helpers" / "__init__.py").exists():
    try:   # no password prompt: a moved or private repository fails at once instead of asking
        git = subprocess.run(["git", "clone", "-q", "--depth", "1", COURSE_REPO, str(COURSE_DIR)],
                             capture_output=True, text=True, timeout=600,
                             env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        why = git.returncode and (git.stderr.strip() or f"git exit status {git.returncode}")
    except (OSError, subprocess.TimeoutExpired) as exc:
        why = str(exc)
    if why:
        print(f"Could not fetch the course from {COURSE_REPO}: {why.splitlines()[-1]}\nUpload its"
              " zip (GitHub: Code > Download ZIP) in Files, run !unzip -q cnn-from-pixels-main.zip"
              f" -d /content && mv /content/cnn-from-pixels-main {COURSE_DIR}\nor set %env"
              " CNN_COURSE_DIR=<a copy's folder> in a cell above; then run this cell again.")
        raise RuntimeError("the course is not here yet: see the message above.") from None
near = [Path.cwd(), *Path.cwd().parents][:4]   # notebooks/, or a language's folder: notebooks/ja/
found = [d for d in (COURSE_DIR, *near) if (d / "helpers" / "__init__.py").exists()]
sys.path[:0] = [str(d) for d in found[:1] if str(d) not in sys.path]
