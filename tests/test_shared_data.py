"""One read-only folder of the datasets shared by a whole class (a JupyterHub), read by many at once.

Several learner processes start together with ``CNN_COURSE_DATA`` pointing at one folder that none
of them can write to. Each must get both datasets, verified against the published digests, without
opening a file for writing anywhere or downloading anything. The learners run as another user than
the folder's owner, the way a hub runs them: when the tests run as root, whom file permissions do not
stop, each learner process drops to the user ``nobody`` once Python has loaded, before it reads the
data; otherwise the folder is made read-only for everyone (chmod a-w). Either way each process also
records every attempt to open a file for writing or to reach a mirror, and the test asserts none.

The folder holds the real Fashion-MNIST (from the Debian package; skipped without it: the machine is
offline) and stand-in MNIST files, whose digests each learner process puts in place of the real ones:
MNIST's real files cannot be had offline, and the reading path is the same for both.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from helpers import datasets

ROOT = Path(__file__).resolve().parent.parent
DEBIAN = datasets.SYSTEM_DIRS["fashion-mnist"][0]
LEARNERS = 4
NOBODY = 65534

pytestmark = pytest.mark.skipif(not all((DEBIAN / (f + ".gz")).is_file() for f in datasets.FILES),
                                reason="needs the Debian package dataset-fashion-mnist (the machine is offline)")

# A learner's kernel: load both datasets from $CNN_COURSE_DATA, recording any write or download attempt.
LEARNER = textwrap.dedent("""
    import builtins, hashlib, io, json, os, sys, urllib.request
    import numpy as np
    from helpers import datasets

    datasets.DIGESTS["mnist"] = {k: tuple(v) for k, v in json.loads(os.environ["STAND_IN_DIGESTS"]).items()}
    if os.geteuid() == 0:                      # a hub's learner is not the folder's owner, nor root
        os.setgroups([])
        os.setgid({nobody})
        os.setuid({nobody})
    attempts = []
    real_open, real_os_open = io.open, os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            attempts.append(f"open({file!r}, {mode!r})")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            attempts.append(f"os.open({path!r}) for writing")
        return real_os_open(path, flags, *args, **kwargs)

    def no_download(url, *args, **kwargs):
        attempts.append(f"download of {getattr(url, 'full_url', url)}")
        raise OSError("no network for learners in this test")

    builtins.open = io.open = guarded_open
    os.open = guarded_os_open
    urllib.request.urlopen = no_download
    result = {"uid": os.geteuid()}
    for name, load in (("fashion-mnist", datasets.load_fashion_mnist), ("mnist", datasets.load_mnist)):
        (x, y), (xt, yt) = load()
        result[name] = [x.shape, xt.shape, hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()]
    result["attempts"] = attempts
    print(json.dumps(result))
""").replace("{nobody}", str(NOBODY))


def _idx(arr) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + arr.tobytes()


def _listing(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.rglob("*"))}


@pytest.fixture
def shared():
    """A class's shared folder, read-only, and a copy of the course the learners import helpers from."""
    base = Path(tempfile.mkdtemp(prefix="hub-"))    # not under pytest's folder, which only its owner may enter
    base.chmod(0o755)
    folder = base / "cnn-course-data"
    # the teacher's command (docs/teaching.md): Fashion-MNIST from wherever it is found, here the package
    env = {**os.environ, "PYTHONPATH": str(ROOT), datasets.SEARCH_ENV: "system"}
    run = subprocess.run([sys.executable, "-m", "helpers.datasets", "copy-to", str(folder), "--dataset",
                          "fashion-mnist"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    rng = np.random.default_rng(0)
    digests = {}
    (folder / "mnist").mkdir()
    for name, shape in zip(datasets.FILES, ((60, 28, 28), (60,), (10, 28, 28), (10,))):
        content = _idx(rng.integers(0, 256 if len(shape) > 1 else 10, shape))
        data = gzip.compress(content, mtime=0)
        (folder / "mnist" / (name + ".gz")).write_bytes(data)
        digests[name] = [hashlib.sha256(data).hexdigest(), None]
    course = base / "course"
    shutil.copytree(ROOT / "helpers", course / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for p in [base, folder, *folder.rglob("*"), course, *course.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
                | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if p.is_dir() else 0))
    for p in [folder, *folder.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))     # chmod -R a-w
    yield folder, course, digests
    for p in [folder, *folder.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(base)


def test_a_class_reads_one_read_only_folder_at_once_and_nobody_writes_or_downloads(shared):
    folder, course, digests = shared
    before = _listing(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNN_COURSE")}
    env.update({datasets.ENV_VAR: str(folder), "STAND_IN_DIGESTS": json.dumps(digests), "PYTHONPATH": str(course),
                "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(course)})
    learners = [subprocess.Popen([sys.executable, "-c", LEARNER], env=env, cwd=course, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(LEARNERS)]
    results = []
    for p in learners:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        assert r["attempts"] == [], r["attempts"]
        assert r["uid"] != 0                                   # the folder's rules applied to them
        assert r["fashion-mnist"][:2] == [[60000, 28, 28], [10000, 28, 28]]
        assert r["mnist"][:2] == [[60, 28, 28], [10, 28, 28]]
    assert len({json.dumps(r["fashion-mnist"]) + json.dumps(r["mnist"]) for r in results}) == 1
    assert _listing(folder) == before                          # nothing added, nothing changed
    assert not (course / ".cache").exists()                    # no download cache made next to helpers


def test_a_learner_cannot_write_into_the_shared_folder(shared):
    # the premise of the test above: the folder really is closed to the learners
    folder, course, _ = shared
    code = (f"import os\nif os.geteuid() == 0:\n    os.setgid({NOBODY}); os.setuid({NOBODY})\n"
            f"try:\n    open(os.path.join({str(folder)!r}, 'fashion-mnist', 'x'), 'wb')\n    print('wrote')\n"
            "except PermissionError:\n    print('refused')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "refused", run.stdout + run.stderr


def test_verify_reads_the_shared_folder_and_writes_nothing(shared):
    folder, _, _ = shared
    before = _listing(folder)
    env = {**os.environ, "PYTHONPATH": str(ROOT), datasets.ENV_VAR: str(folder)}
    run = subprocess.run([sys.executable, "-m", "helpers.datasets", "verify", "--dataset", "fashion-mnist"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fashion-mnist: verified, 60,000 training and 10,000 test images" in run.stdout
    assert _listing(folder) == before
