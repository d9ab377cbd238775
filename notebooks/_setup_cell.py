# Set-up. In Google Colab this fetches the course (the helpers package and data/) once; elsewhere it
# only makes sure `import helpers` works when the notebook is opened from a clone without installing.
# A copy of the course elsewhere: set CNN_COURSE_DIR to its folder (e.g. %env CNN_COURSE_DIR=/content/x).
import os
import subprocess
import sys
from pathlib import Path

COURSE_REPO = "https://github.com/cnn-course/cnn-from-pixels"
COURSE_DIR = Path(os.environ.get("CNN_COURSE_DIR", "/content/cnn-from-pixels"))
if "google.colab" in sys.modules and not (COURSE_DIR / "helpers" / "__init__.py").exists():
    try:   # no password prompt: a moved or private repository fails at once instead of asking
        clone = subprocess.run(["git", "clone", "-q", "--depth", "1", COURSE_REPO, str(COURSE_DIR)],
                               capture_output=True, text=True, timeout=600,
                               env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        failure = None
        if clone.returncode:
            failure = (clone.stderr.strip().splitlines() or [f"git exit status {clone.returncode}"])[-1:]
    except (OSError, subprocess.TimeoutExpired) as exc:
        failure = [str(exc)]
    if failure is not None:
        print(f"Could not fetch the course from {COURSE_REPO} into {COURSE_DIR}:\n  {' '.join(failure)}\n"
              "(no internet in this runtime, or the repository has moved). Two ways to get it:\n"
              "  1. Upload a zip of the repository (on GitHub: Code > Download ZIP) in the Files panel, then run\n"
              f"     !unzip -q cnn-from-pixels-main.zip -d /content && mv /content/cnn-from-pixels-main {COURSE_DIR}\n"
              "  2. Or clone it elsewhere (a fork, a mirror, your Drive) and set its folder in a cell above this one:\n"
              "     %env CNN_COURSE_DIR=/content/drive/MyDrive/cnn-from-pixels\n"
              "Then run this cell again.")
        raise RuntimeError("the course is not here yet: see the message above.") from None
for root in (COURSE_DIR, Path.cwd().parent):
    if (root / "helpers" / "__init__.py").exists() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
