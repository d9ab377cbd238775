# Set-up. In Google Colab this fetches the course (the helpers package and data/) once; elsewhere it
# only makes sure `import helpers` works when the notebook is opened from a clone without installing.
import subprocess
import sys
from pathlib import Path

COURSE_REPO = "https://github.com/cnn-course/cnn-from-pixels"
if "google.colab" in sys.modules and not Path("/content/cnn-from-pixels").exists():
    subprocess.run(["git", "clone", "-q", "--depth", "1", COURSE_REPO, "/content/cnn-from-pixels"], check=True)
for root in (Path("/content/cnn-from-pixels"), Path.cwd().parent):
    if (root / "helpers" / "__init__.py").exists() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
