"""MNIST and Fashion-MNIST: find the files, verify them, download them if need be, parse them.

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()    # uint8 (60000, 28, 28), uint8 (60000,)

Where the files are looked for, in this order:

1. a directory you give: ``load_mnist(path=...)``, or the environment variable ``CNN_COURSE_DATA``
   (the files may sit in it directly or in a ``mnist/`` or ``fashion-mnist/`` subfolder);
2. the project's cache, ``.cache/datasets/<name>/`` next to ``helpers/`` (where downloads go);
3. for Fashion-MNIST, the Debian/Ubuntu package ``dataset-fashion-mnist`` (/usr/share/datasets/fashion-mnist);
4. the official mirrors, if ``download=True`` (the default).

The environment variable ``CNN_COURSE_DATA_SEARCH`` narrows that search, for tests and CI that must see
what a machine without the dataset (or offline) sees, without uninstalling anything: a comma-separated
list of the places to use, among ``env`` (the folder in ``CNN_COURSE_DATA``), ``cache``, ``system`` and
``download``; ``none`` uses none of them. Unset or empty means all four. A folder passed as ``path=`` is
always searched: the caller named it. For example::

    CNN_COURSE_DATA_SEARCH=none make test            # as on a fresh machine without the data, offline
    CNN_COURSE_DATA_SEARCH=env,cache,download ...    # as without the Debian package

Every file is checked against a published SHA-256 before it is used: the .gz digest that the dataset's
authors publish, or the digest of the decompressed content (the Debian package recompressed the files,
so their .gz bytes differ while the content is identical). A download is written to a temporary file
in the cache folder and renamed into place only once its digest is right, so the cache never holds
half a file. The files are in IDX format (a tiny header, then raw bytes); :func:`parse_idx` reads it
and rejects truncated or malformed files. Nothing is ever unpickled.

For a class on one server (see docs/teaching.md), one read-only folder serves everyone::

    python -m helpers.datasets copy-to /srv/cnn-course-data    # the verified files, from wherever found
    CNN_COURSE_DATA=/srv/cnn-course-data python -m helpers.datasets verify     # reads only
"""
from __future__ import annotations

import hashlib
import math
import os
import urllib.request
import warnings
import zlib
from pathlib import Path

import numpy as np

from ._files import write_atomically

__all__ = [
    "load_mnist", "load_fashion_mnist", "parse_idx", "DatasetNotFoundError", "ChecksumError", "IDXFormatError",
    "CacheWarning",
    "ENV_VAR", "SEARCH_ENV", "SEARCH_PLACES", "FASHION_LABELS", "cache_dir", "search_places", "copy_to", "verify",
]

ENV_VAR = "CNN_COURSE_DATA"

#: The environment variable that narrows where the data is looked for (see the module docstring).
SEARCH_ENV = "CNN_COURSE_DATA_SEARCH"

#: Every place the search can use, in the order it uses them.
SEARCH_PLACES = ("env", "cache", "system", "download")

#: Class names of Fashion-MNIST, by label.
FASHION_LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# name -> (SHA-256 of the official .gz, SHA-256 of the decompressed IDX file or None if not recorded).
#
# The .gz digests are the published ones. The content digests of Fashion-MNIST were computed from the
# files of the Debian package dataset-fashion-mnist, and tied to the published .gz digests like this:
# the Debian .gz files hold the very same deflate stream as the official ones, only their gzip header
# lacks the original file name and carries a later time stamp. Putting back the FNAME field and the
# original time stamp (2017-08-31, 1504176606 for the train files, 1504176627 for t10k) around the
# Debian stream reproduces the official .gz byte for byte, so the decompressed content is the official
# content. tests/test_datasets.py repeats that reconstruction wherever the package is installed.
DIGESTS = {
    "mnist": {
        "train-images-idx3-ubyte": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", None),
        "train-labels-idx1-ubyte": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", None),
        "t10k-images-idx3-ubyte": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", None),
        "t10k-labels-idx1-ubyte": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", None),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train-labels-idx1-ubyte": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "t10k-images-idx3-ubyte": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                                   "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t10k-labels-idx1-ubyte": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                                   "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
}

MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

SYSTEM_DIRS = {"mnist": (), "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}

LICENCES = {
    "mnist": "MNIST, by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0)",
    "fashion-mnist": "Fashion-MNIST, by Zalando SE (MIT licence)",
}


class DatasetNotFoundError(FileNotFoundError):
    """The dataset is nowhere on this machine and could not be downloaded."""


class ChecksumError(ValueError):
    """A file's SHA-256 is not the published one: corrupt, truncated, or a different file."""


class IDXFormatError(ValueError):
    """The bytes are not a well-formed IDX file."""


class CacheWarning(UserWarning):
    """A download could not be saved in the cache folder (read-only, full): it is used from memory."""


def cache_dir() -> Path:
    """The project's download cache: ``.cache/datasets`` next to the helpers package."""
    return Path(__file__).resolve().parent.parent / ".cache" / "datasets"


def search_places() -> tuple[str, ...]:
    """The places the search uses, from ``CNN_COURSE_DATA_SEARCH`` (all of :data:`SEARCH_PLACES` if unset).

    ``CNN_COURSE_DATA_SEARCH="cache, download"`` gives ``("cache", "download")``; ``none`` gives ``()``.
    """
    setting = os.environ.get(SEARCH_ENV, "").strip().lower()
    if not setting:
        return SEARCH_PLACES
    words = [w.strip() for w in setting.split(",") if w.strip()]
    if words == ["none"]:
        return ()
    unknown = [w for w in words if w not in SEARCH_PLACES]
    if unknown or not words:
        raise ValueError(
            f"{SEARCH_ENV}={setting!r}: {', '.join(map(repr, unknown)) or 'no place'} is not a place to search. "
            f"Use a comma-separated list of {', '.join(SEARCH_PLACES)} (for example 'cache,download'), or "
            f"'none', or unset it to search everywhere."
        )
    return tuple(p for p in SEARCH_PLACES if p in words)


# -- IDX ---------------------------------------------------------------------------------------------

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_TYPE_NAMES = "0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64"


def parse_idx(data: bytes | bytearray, name: str = "the file") -> np.ndarray:
    """Parse the IDX format: 2 zero bytes, a type code, the number of dimensions, each dimension as a
    big-endian uint32, then the values. Truncated or malformed input raises :class:`IDXFormatError`.

    The result is a new array, except from a ``bytearray`` of native-order values (uint8, as in MNIST):
    then it is a view of that bytearray, which the loaders decompress into for that purpose alone.
    """
    if not isinstance(data, bytearray):
        data = bytes(data)
    if len(data) < 4:
        raise IDXFormatError(f"{name} is {len(data)} bytes long: too short to be an IDX file (truncated?).")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(
            f"{name} does not start like an IDX file (magic bytes {data[:4].hex()}, expected 0000 then a type "
            "code and the number of dimensions). Is it still gzip-compressed (1f8b...), or a different file?"
        )
    if data[2] not in _IDX_TYPES:
        raise IDXFormatError(f"{name} declares the value type code 0x{data[2]:02X}, which IDX does not define "
                             f"(known: {_IDX_TYPE_NAMES}). The file is damaged or not an IDX file.")
    dtype, ndim = np.dtype(_IDX_TYPES[data[2]]), data[3]
    if ndim == 0:
        raise IDXFormatError(f"{name} declares 0 dimensions.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{name} is truncated inside its header ({len(data)} of {header} bytes).")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * dtype.itemsize      # Python ints: 4 dims of 2**21 overflow int64
    if len(data) < expected:
        raise IDXFormatError(
            f"{name} is truncated: its header announces shape {shape} ({expected:,} bytes) but it has "
            f"{len(data):,} bytes. Delete it and download it again."
        )
    if len(data) > expected:
        raise IDXFormatError(f"{name} has {len(data) - expected:,} bytes after the {shape} values it announces.")
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    if isinstance(data, bytearray) and dtype.isnative:
        return values          # a bytearray is used in place, not copied: the images of a dataset are 47 MB
    return values.astype(dtype.newbyteorder("="))


# -- finding and verifying ---------------------------------------------------------------------------

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The largest file, train-images, is 47,040,016 bytes: a .gz that inflates to more is not one of ours
# (and might be a "zip bomb" that would fill the memory), so stop reading there.
_MAX_CONTENT = 2**26


def _decompress(data: bytes, where: str) -> bytearray:
    """The content of the gzip file ``data``, decompressed a megabyte at a time into one bytearray.

    (gzip.decompress would make the content as bytes, read-only, which the arrays would then copy:
    twice the 47 MB of the largest file.) A gzip file ends with its content's size, so the bytearray
    is made that size once; it grows if the size field lies, up to _MAX_CONTENT.
    """
    size = int.from_bytes(data[-4:], "little") if len(data) >= 4 else 0
    content = bytearray(min(size, _MAX_CONTENT))
    inflate, n, view = zlib.decompressobj(wbits=31), 0, memoryview(data)     # wbits=31: a gzip header
    try:
        for start in range(0, len(data), 2**16):             # 64 kB in at a time: zlib copies what it leaves
            rest = view[start : start + 2**16]
            while rest and n <= _MAX_CONTENT and not inflate.eof:
                chunk = inflate.decompress(rest, 2**20)      # at most 1 MB out, whatever the input holds
                rest = inflate.unconsumed_tail
                content[n : n + len(chunk)] = chunk          # grows the bytearray only past its end
                n += len(chunk)
            if inflate.eof or n > _MAX_CONTENT:
                break
        if not inflate.eof and n <= _MAX_CONTENT:
            raise ChecksumError(f"{where} is not a complete gzip file (it ends inside the compressed data).")
    except zlib.error as exc:
        raise ChecksumError(f"{where} is not a complete gzip file ({exc}).") from exc
    if n > _MAX_CONTENT:
        raise ChecksumError(f"{where} inflates to more than {_MAX_CONTENT:,} bytes: it is not one of the dataset's "
                            "files. Delete it and get the files again.")
    del content[n:]
    return content


def _read_all(f, limit: int) -> bytearray:
    """Up to ``limit`` bytes of the open file ``f``, read into one bytearray of ``limit`` bytes (no copies
    on the way), then cut to what was read: the images become a view of it (see :func:`parse_idx`)."""
    content = bytearray(limit)
    view, n = memoryview(content), 0
    while n < limit:
        got = f.readinto(view[n:])
        if not got:
            break
        n += got
    view.release()
    del content[n:]
    return content


def _verified_content(path: Path, gz_digest: str, raw_digest: str | None) -> bytes | bytearray:
    """The IDX bytes of ``path`` (.gz or not), if its digest is a published one; else ChecksumError."""
    if path.suffix == ".gz":
        data = path.read_bytes()
    else:
        with open(path, "rb") as f:
            data = _read_all(f, min(os.fstat(f.fileno()).st_size, _MAX_CONTENT) + 1)
    if path.suffix == ".gz":
        if _sha256(data) == gz_digest:
            return _decompress(data, str(path))
        if raw_digest is not None:
            content = _decompress(data, str(path))
            if _sha256(content) == raw_digest:
                return content
        raise ChecksumError(
            f"{path} does not match the published SHA-256 (expected {gz_digest} for the .gz"
            + (f" or {raw_digest} for its content" if raw_digest else "")
            + f", got {_sha256(data)}). It is corrupt, truncated or a different file: delete it and get it again."
        )
    if raw_digest is None:
        raise ChecksumError(
            f"{path} is uncompressed, and only the official .gz digest of this file is recorded: put the .gz "
            "file, as downloaded, in that folder instead."
        )
    if _sha256(data) != raw_digest:
        raise ChecksumError(f"{path} does not match the SHA-256 of the official content (expected {raw_digest}, "
                            f"got {_sha256(data)}). Delete it and get it again.")
    return data


def _candidates(folder: Path, dataset: str, name: str):
    for sub in (folder, folder / dataset, folder / dataset.replace("-", "_")):
        for fname in (name + ".gz", name):
            yield sub / fname


def _download(name: str, gz_digest: str, mirrors, timeout: float) -> bytes:
    """Fetch ``name``.gz from the first mirror that works and verify it. Returns its bytes."""
    errors = []
    for base in mirrors:
        url = base + name + ".gz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = response.read()
        except (OSError, ValueError) as exc:              # URLError, HTTPError, timeouts are OSErrors
            errors.append(f"{url}: {exc}")
            continue
        if _sha256(data) != gz_digest:
            errors.append(f"{url}: SHA-256 mismatch ({len(data):,} bytes; truncated or altered download)")
            continue
        return data
    raise DatasetNotFoundError("\n  ".join([f"could not download {name}.gz:"] + errors))


def _store(dest_dir: Path, name: str, data: bytes) -> str | None:
    """Save a verified download in the cache; if that fails (read-only folder, disk full), say why and go on:
    the data is in memory, so this run need not fail. Returns the reason it was not saved, or None."""
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(dest_dir / (name + ".gz"), data)
    except OSError as exc:
        return f"{name}.gz: {type(exc).__name__}: {exc}"
    return None


def _not_found_message(dataset: str, searched, download_errors) -> str:
    lines = [f"{dataset} was not found, and it could not be downloaded.", "Looked in:"]
    lines += [f"  - {p}" for p in searched] or ["  - (no folder)"]
    if download_errors:
        lines += ["Download attempts:"] + [f"  - {e}" for e in download_errors]
    lines += [
        "Three ways to get it:",
        f"  1. download the four .gz files ({', '.join(f + '.gz' for f in FILES)}) from "
        f"{MIRRORS[dataset][0]} on a machine with internet, put them in a folder, and pass "
        f"path='that/folder' or set the environment variable {ENV_VAR}=that/folder;",
    ]
    if dataset == "fashion-mnist":
        lines.append("  2. on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist;")
    else:
        lines.append(f"  2. copy the files into the course's cache folder, {cache_dir() / dataset};")
    lines.append("  3. connect to the internet and call the function again (download=True fetches and verifies them).")
    return "\n".join(lines)


def _search_folders(dataset: str, path, cache_root: Path, places) -> list[Path]:
    """The folders to look in for ``dataset``, in order: ``path``, $CNN_COURSE_DATA, the cache, the system's."""
    folders = []
    for given, origin in ((path, "given as path="), (os.environ.get(ENV_VAR) if "env" in places else None,
                                                      f"given in {ENV_VAR}")):
        if given:
            folder = Path(given).expanduser()
            if not folder.is_dir():
                raise NotADirectoryError(f"{folder} ({origin}) is not a directory.")
            folders.append(folder)
    if "cache" in places:
        folders.append(cache_root / dataset)
    if "system" in places:
        folders += SYSTEM_DIRS[dataset]
    return folders


def _load(dataset: str, path=None, download: bool = True, cache=None, mirrors=None, timeout: float = 60.0,
          places=None):
    if dataset not in DIGESTS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {sorted(DIGESTS)}.")
    narrowed = places is None and search_places() != SEARCH_PLACES      # by the environment variable
    places = search_places() if places is None else places
    cache_root = Path(cache) if cache is not None else cache_dir()
    folders = _search_folders(dataset, path, cache_root, places)
    if download and "download" not in places:
        download = False
        skipped = [f"downloading is off: {SEARCH_ENV}={os.environ.get(SEARCH_ENV)!r} leaves it out"]
    else:
        skipped = []
    # each file is parsed as soon as it is verified, and its bytes let go: the four files' bytes and
    # arrays are never in memory at once (a learner's kernel on a shared server has a budget)
    arrays, download_errors, unsaved = {}, [], []
    for name in FILES:
        gz_digest, raw_digest = DIGESTS[dataset][name]
        problems = []
        for folder in folders:
            for candidate in _candidates(folder, dataset, name):
                if candidate.is_file():
                    try:
                        arrays[name] = parse_idx(_verified_content(candidate, gz_digest, raw_digest), name)
                        break
                    except ChecksumError as exc:
                        problems.append(str(exc))
                    except OSError as exc:                  # unreadable (permissions, a broken disk)
                        problems.append(f"{candidate} could not be read: {type(exc).__name__}: {exc}")
            if name in arrays:
                break
        if name in arrays:
            continue
        if download:
            try:
                fetched = _download(name, gz_digest, MIRRORS[dataset] if mirrors is None else mirrors, timeout)
                arrays[name] = parse_idx(_decompress(fetched, f"the download of {name}.gz"), name)
                reason = _store(cache_root / dataset, name, fetched)
                if reason:
                    unsaved.append(reason)
                continue
            except DatasetNotFoundError as exc:
                download_errors.append(str(exc))
        msg = _not_found_message(dataset, folders, download_errors + skipped)
        if narrowed:
            msg += (f"\n(The search was narrowed by {SEARCH_ENV}={os.environ.get(SEARCH_ENV)!r} to: "
                    f"{', '.join(places) or 'none'}; unset it to search everywhere.)")
        if problems:
            msg = "Files were found but rejected:\n  - " + "\n  - ".join(problems) + "\n" + msg
        raise DatasetNotFoundError(msg)
    if unsaved:
        warnings.warn(
            f"{dataset} was downloaded and is used from memory, but it could not be saved in the cache folder "
            f"{cache_root / dataset}:\n  " + "\n  ".join(unsaved) + "\nIt will be downloaded again next time. To "
            "keep it, make that folder writable, or pass cache='a/folder/you/can/write' (or save the files "
            f"yourself in a folder and set {ENV_VAR} to it).",
            CacheWarning, stacklevel=3)
    out = []
    for split in ("train", "t10k"):
        images, labels = arrays[f"{split}-images-idx3-ubyte"], arrays[f"{split}-labels-idx1-ubyte"]
        wrong = [what for what, bad in (
            (f"images should be uint8 (N, H, W), not {images.dtype} {images.shape}",
             images.ndim != 3 or images.dtype != np.uint8),
            (f"labels should be uint8 (N,), not {labels.dtype} {labels.shape}",
             labels.ndim != 1 or labels.dtype != np.uint8),
            (f"there are {len(images):,} images but {len(labels):,} labels", len(images) != len(labels)),
        ) if bad]
        if wrong:
            raise IDXFormatError(f"the {split} files do not fit together: " + "; ".join(wrong) + ".")
        out.append((images, labels))
    return tuple(out)


def load_mnist(path=None, download: bool = True, cache=None, mirrors=None, timeout: float = 60.0):
    """The MNIST handwritten digits: ``(x_train, y_train), (x_test, y_test)``.

    x: uint8 (60000, 28, 28) and (10000, 28, 28), 0 = background, 255 = ink; y: uint8 labels 0..9.
    ``path``: a folder to look in first; ``download``: fetch from the official mirrors if not found;
    ``cache``: where downloads go (default :func:`cache_dir`). Licence: CC BY-SA 3.0 (LeCun, Cortes, Burges).
    """
    return _load("mnist", path, download, cache, mirrors, timeout)


def load_fashion_mnist(path=None, download: bool = True, cache=None, mirrors=None, timeout: float = 60.0):
    """Fashion-MNIST (Zalando): 28x28 grayscale photos of clothes in 10 classes (:data:`FASHION_LABELS`).

    Same layout and arguments as :func:`load_mnist`. Also found in the Debian package
    dataset-fashion-mnist. Licence: MIT, Zalando SE.
    """
    return _load("fashion-mnist", path, download, cache, mirrors, timeout)


# -- for a teacher: one shared, read-only folder of the datasets for a whole class ---------------------

def copy_to(folder, dataset: str, download: bool = True, mirrors=None, timeout: float = 60.0) -> list[str]:
    """Put the four verified files of ``dataset`` in ``folder/<dataset>/``: copied from wherever the usual
    search finds them (``CNN_COURSE_DATA``, the cache, the Debian package), else downloaded. Returns what
    was done, a line per file. The files are written whole or not at all, readable by everyone.
    """
    if dataset not in DIGESTS:
        raise ValueError(f"dataset must be one of {sorted(DIGESTS)}, got {dataset!r}.")
    places = search_places()
    folders = _search_folders(dataset, None, cache_dir(), places)
    target = Path(folder).expanduser() / dataset
    done = []
    for name in FILES:
        gz_digest, raw_digest = DIGESTS[dataset][name]
        source = None
        for candidate in (c for f in folders for c in _candidates(f, dataset, name)):
            if candidate.is_file():
                try:
                    _verified_content(candidate, gz_digest, raw_digest)
                except (ChecksumError, OSError):
                    continue
                source = candidate
                break
        if source is not None or download and "download" in places:
            target.mkdir(parents=True, exist_ok=True)
        if source is not None:
            if source.resolve() != (target / source.name).resolve():
                write_atomically(target / source.name, source.read_bytes())
            done.append(f"{target / source.name}: verified, from {source}")
        elif download and "download" in places:
            write_atomically(target / (name + ".gz"),
                          _download(name, gz_digest, MIRRORS[dataset] if mirrors is None else mirrors, timeout))
            done.append(f"{target / (name + '.gz')}: downloaded and verified")
        else:
            raise DatasetNotFoundError(_not_found_message(dataset, folders, []))
    return done


def verify(folder, dataset: str) -> str:
    """Check that ``folder`` (or its ``<dataset>/`` subfolder) holds the four files of ``dataset``, each
    with its published SHA-256. Only reads: nothing is written, nothing downloaded, no other place
    searched. Returns a line that says what was found; raises DatasetNotFoundError or a format error."""
    (x, _), (xt, _) = _load(dataset, path=folder, download=False, places=())
    return f"{dataset}: verified, {len(x):,} training and {len(xt):,} test images of {x.shape[1]}x{x.shape[2]}"


def main(argv=None) -> int:
    """``python -m helpers.datasets verify [FOLDER]`` or ``copy-to FOLDER``: see the teacher's guide."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.datasets",
                                     description="Verify or gather the course's datasets in one folder.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help=f"check the files in FOLDER (default: ${ENV_VAR}); reads only")
    v.add_argument("folder", nargs="?", default=os.environ.get(ENV_VAR))
    c = sub.add_parser("copy-to", help="put the verified files in FOLDER/mnist and FOLDER/fashion-mnist")
    c.add_argument("folder")
    for p in (v, c):
        p.add_argument("--dataset", choices=sorted(DIGESTS), action="append",
                       help="only this dataset (may be given twice; default: both)")
    args = parser.parse_args(argv)
    if not args.folder:
        parser.error(f"verify needs a FOLDER, or the environment variable {ENV_VAR} set to one.")
    failed = False
    for dataset in args.dataset or ("mnist", "fashion-mnist"):
        try:
            lines = copy_to(args.folder, dataset) if args.command == "copy-to" else [verify(args.folder, dataset)]
        except (DatasetNotFoundError, ChecksumError, IDXFormatError, OSError) as exc:
            print(f"{dataset}: {type(exc).__name__}: {exc}")
            failed = True
            continue
        print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
