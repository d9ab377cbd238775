"""helpers.datasets: finding, verifying, downloading (from a local fake, never the network), parsing.

Small synthetic IDX files stand in for the real ones; their digests replace the published ones for
the duration of a test, so every code path runs without the real data and without a network.
"""
import gzip
import hashlib
import io
import os
import struct
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from helpers import datasets
from helpers.datasets import (
    FILES,
    DatasetNotFoundError,
    IDXFormatError,
    load_fashion_mnist,
    load_mnist,
    parse_idx,
)

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def _debian_searched() -> bool:
    """The package is installed and the search may use it (CNN_COURSE_DATA_SEARCH can hide it, so that a
    run pretending to be a machine without it skips these tests as that machine would)."""
    try:
        return DEBIAN.is_dir() and "system" in datasets.search_places()
    except ValueError:
        return DEBIAN.is_dir()


needs_debian = pytest.mark.skipif(not _debian_searched(),
                                  reason="the Debian package dataset-fashion-mnist is not installed (or hidden)")


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Tiny stand-ins for the four files; the registry's digests point at them; no system folders."""
    r = np.random.default_rng(0)
    content = {
        "train-images-idx3-ubyte": idx_bytes(r.integers(0, 256, (6, 28, 28))),
        "train-labels-idx1-ubyte": idx_bytes(r.integers(0, 10, 6)),
        "t10k-images-idx3-ubyte": idx_bytes(r.integers(0, 256, (4, 28, 28))),
        "t10k-labels-idx1-ubyte": idx_bytes(r.integers(0, 10, 4)),
    }
    gzipped = {k: gz(v) for k, v in content.items()}
    for dataset in ("mnist", "fashion-mnist"):
        digests = {k: (hashlib.sha256(gzipped[k]).hexdigest(),
                       hashlib.sha256(content[k]).hexdigest() if dataset == "fashion-mnist" else None)
                   for k in content}
        monkeypatch.setitem(datasets.DIGESTS, dataset, digests)
        monkeypatch.setitem(datasets.SYSTEM_DIRS, dataset, ())
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    monkeypatch.delenv(datasets.SEARCH_ENV, raising=False)
    server = tmp_path / "server"
    server.mkdir()
    for k, v in gzipped.items():
        (server / (k + ".gz")).write_bytes(v)

    class Fake:
        pass

    f = Fake()
    f.content, f.gzipped, f.server, f.cache = content, gzipped, server, tmp_path / "cache"
    f.mirrors = (server.as_uri() + "/",)
    return f


def test_parse_idx_round_trip_and_bad_files():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(a)), a)
    data = idx_bytes(a)
    with pytest.raises(IDXFormatError, match="truncated"):
        parse_idx(data[:-1])
    with pytest.raises(IDXFormatError, match="truncated inside its header"):
        parse_idx(data[:9])
    with pytest.raises(IDXFormatError, match="after"):
        parse_idx(data + b"\0")
    with pytest.raises(IDXFormatError, match="gzip"):
        parse_idx(gz(data))
    with pytest.raises(IDXFormatError, match="too short"):
        parse_idx(b"\0\0")


def test_download_from_a_fake_mirror_verifies_and_caches(fake):
    (xtr, ytr), (xte, yte) = load_mnist(cache=fake.cache, mirrors=fake.mirrors)
    assert xtr.dtype == np.uint8 and xtr.shape == (6, 28, 28) and ytr.shape == (6,) and xte.shape == (4, 28, 28)
    np.testing.assert_array_equal(xtr, parse_idx(fake.content["train-images-idx3-ubyte"]))
    cached = sorted(p.name for p in (fake.cache / "mnist").iterdir())
    assert cached == sorted(f + ".gz" for f in FILES)
    # second call: from the cache, with downloading off
    (xtr2, _), _ = load_mnist(cache=fake.cache, download=False)
    np.testing.assert_array_equal(xtr, xtr2)


def test_a_truncated_download_is_rejected_and_nothing_is_cached(fake, monkeypatch):
    def truncated(url, timeout=None):
        return io.BytesIO(fake.gzipped[url.rsplit("/", 1)[1][:-3]][:-100])

    monkeypatch.setattr(urllib.request, "urlopen", truncated)
    with pytest.raises(DatasetNotFoundError, match="SHA-256 mismatch"):
        load_mnist(cache=fake.cache, mirrors=("https://example.invalid/",))
    assert not (fake.cache / "mnist").exists() or not any((fake.cache / "mnist").iterdir())


def test_a_second_mirror_is_tried_when_the_first_fails(fake):
    (xtr, _), _ = load_mnist(cache=fake.cache, mirrors=((fake.server / "missing").as_uri() + "/", *fake.mirrors))
    assert xtr.shape == (6, 28, 28)


def test_an_interrupted_write_leaves_no_half_file(fake, monkeypatch):
    real_fsync = os.fsync

    def crash(fd):
        real_fsync(fd)
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        load_mnist(cache=fake.cache, mirrors=fake.mirrors)
    assert list((fake.cache / "mnist").iterdir()) == [], "the cache holds a partial file"
    monkeypatch.setattr(os, "fsync", real_fsync)
    (xtr, _), _ = load_mnist(cache=fake.cache, mirrors=fake.mirrors)   # and it recovers
    assert xtr.shape == (6, 28, 28)


def test_a_corrupt_file_in_the_users_folder_is_rejected_with_the_reason(fake, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for k, v in fake.gzipped.items():
        (folder / (k + ".gz")).write_bytes(v)
    bad = bytearray(fake.gzipped["train-labels-idx1-ubyte"])
    bad[-5] ^= 0xFF
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(bytes(bad))
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(path=folder, cache=fake.cache, download=False)
    assert "does not match the published SHA-256" in str(info.value)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)


def test_a_wrong_checksum_is_refused_even_if_the_file_parses(fake, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for k, v in fake.gzipped.items():
        (folder / (k + ".gz")).write_bytes(v)
    digests = dict(datasets.DIGESTS["mnist"])
    digests["t10k-labels-idx1-ubyte"] = ("0" * 64, None)
    monkeypatch.setitem(datasets.DIGESTS, "mnist", digests)
    with pytest.raises(DatasetNotFoundError, match="0000000000"):
        load_mnist(path=folder, cache=fake.cache, download=False)


def test_environment_variable_and_recompressed_or_plain_files_by_content_digest(fake, tmp_path, monkeypatch):
    folder = tmp_path / "env" / "fashion-mnist"
    folder.mkdir(parents=True)
    for k, v in fake.content.items():     # recompressed with another header (as Debian did), or not at all
        if "labels" in k:
            (folder / k).write_bytes(v)
        else:
            (folder / (k + ".gz")).write_bytes(gzip.compress(v, mtime=123456))
    monkeypatch.setenv(datasets.ENV_VAR, str(folder.parent))
    (xtr, ytr), _ = load_fashion_mnist(cache=fake.cache, download=False)
    np.testing.assert_array_equal(ytr, parse_idx(fake.content["train-labels-idx1-ubyte"]))


def test_offline_with_nothing_found_lists_the_ways_to_get_the_data(fake, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist(cache=fake.cache)
    text = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in text and datasets.ENV_VAR in text and "internet" in text
    assert "Name or service not known" in text


def test_a_missing_user_folder_is_an_error(fake, tmp_path):
    with pytest.raises(NotADirectoryError, match="given as path="):
        load_mnist(path=tmp_path / "nope", cache=fake.cache)


@pytest.mark.parametrize("setting", ["nope", "1", "~/no/such/folder"])
def test_a_data_variable_that_is_not_a_folder_names_the_variable(fake, monkeypatch, setting):
    monkeypatch.setenv(datasets.ENV_VAR, setting)
    with pytest.raises(NotADirectoryError, match=f"given in {datasets.ENV_VAR}"):
        load_mnist(cache=fake.cache, download=False)


@needs_debian
def test_debian_files_are_the_official_files():
    """Rebuild the official .gz from each Debian .gz (file name and original time stamp back in the
    gzip header, same deflate stream) and compare with the published digest; check the content digest."""
    mtimes = {"train": 1504176606, "t10k": 1504176627}
    for name in FILES:
        data = (DEBIAN / (name + ".gz")).read_bytes()
        assert data[:4] == b"\x1f\x8b\x08\x00", "expected a gzip header without a file name"
        rebuilt = (b"\x1f\x8b\x08\x08" + struct.pack("<I", mtimes[name.split("-")[0]]) + b"\x00\x03"
                   + name.encode() + b"\0" + data[10:])
        gz_digest, raw_digest = datasets.DIGESTS["fashion-mnist"][name]
        assert hashlib.sha256(rebuilt).hexdigest() == gz_digest
        assert hashlib.sha256(gzip.decompress(data)).hexdigest() == raw_digest


@needs_debian
def test_fashion_mnist_from_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    (xtr, ytr), (xte, yte) = load_fashion_mnist(cache=tmp_path, download=False)
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28) and xtr.dtype == np.uint8
    assert np.bincount(ytr).tolist() == [6000] * 10 and np.bincount(yte).tolist() == [1000] * 10


# -- CNN_COURSE_DATA_SEARCH: see what a machine without the data sees, without uninstalling anything ----

@pytest.fixture
def everywhere(fake, tmp_path, monkeypatch):
    """The same four files in a CNN_COURSE_DATA folder, the cache, a system folder, and on the mirror."""
    places = {"env": tmp_path / "env", "cache": fake.cache / "mnist", "system": tmp_path / "system"}
    for folder in places.values():
        folder.mkdir(parents=True)
        for k, v in fake.gzipped.items():
            (folder / (k + ".gz")).write_bytes(v)
    monkeypatch.setenv(datasets.ENV_VAR, str(places["env"]))
    monkeypatch.setitem(datasets.SYSTEM_DIRS, "mnist", (places["system"],))
    return places


def _opened(monkeypatch):
    """Record every file the search reads, and every URL it fetches."""
    seen = []
    real_read = Path.read_bytes

    def read_bytes(self):
        seen.append(str(self))
        return real_read(self)

    def urlopen(url, timeout=None):
        seen.append(url)
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return seen


@pytest.mark.parametrize("place", ["env", "cache", "system"])
def test_the_search_can_be_narrowed_to_one_place(everywhere, fake, monkeypatch, place):
    monkeypatch.setenv(datasets.SEARCH_ENV, place)
    seen = _opened(monkeypatch)
    (xtr, _), _ = load_mnist(cache=fake.cache)
    assert xtr.shape == (6, 28, 28)
    assert seen and all(s.startswith(str(everywhere[place])) for s in seen), seen


def test_search_none_finds_nothing_and_downloads_nothing_and_says_why(everywhere, fake, monkeypatch):
    monkeypatch.setenv(datasets.SEARCH_ENV, "none")
    seen = _opened(monkeypatch)
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(cache=fake.cache, mirrors=fake.mirrors)
    assert seen == []
    assert f"{datasets.SEARCH_ENV}='none'" in str(info.value) and "downloading is off" in str(info.value)
    # a folder the caller names is still searched
    (xtr, _), _ = load_mnist(path=everywhere["env"], cache=fake.cache)
    assert xtr.shape == (6, 28, 28)


def test_search_download_only_fetches_even_when_the_files_are_elsewhere(everywhere, fake, monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.SEARCH_ENV, " Download ")
    cache = tmp_path / "fresh"
    (xtr, _), _ = load_mnist(cache=cache, mirrors=fake.mirrors)
    assert xtr.shape == (6, 28, 28) and sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(
        f + ".gz" for f in FILES)


@pytest.mark.parametrize("setting", ["cache,sytem", "0", "yes", ",", "none,cache"])
def test_a_misspelt_search_setting_is_a_clear_error(fake, monkeypatch, setting):
    monkeypatch.setenv(datasets.SEARCH_ENV, setting)
    with pytest.raises(ValueError, match="env, cache, system, download"):
        load_mnist(cache=fake.cache, download=False)


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="the Debian package dataset-fashion-mnist is not installed")
def test_the_debian_package_can_be_hidden_without_uninstalling_it(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    monkeypatch.setenv(datasets.SEARCH_ENV, "env,cache")
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist(cache=tmp_path)
    assert str(DEBIAN) not in str(info.value).split("Three ways")[0]


# -- fault injection: damaged files, odd headers, a cache that cannot be written ----------------------

def test_a_huge_idx_header_reports_the_byte_count_it_announces():
    """Dimensions of 2**21 each announce 2**63 bytes and more: int64 arithmetic would wrap around."""
    for ndim in (3, 4):
        data = bytes([0, 0, 0x08, ndim]) + struct.pack(f">{ndim}I", *[2**21] * ndim) + b"\0" * 10
        announced = 4 + 4 * ndim + 2 ** (21 * ndim)
        with pytest.raises(IDXFormatError, match=f"truncated.*{announced:,} bytes"):
            parse_idx(data)


def test_an_unknown_value_type_code_is_named():
    data = bytes([0, 0, 0x07, 1]) + struct.pack(">I", 3) + b"abc"
    with pytest.raises(IDXFormatError, match="type code 0x07.*0x08 uint8"):
        parse_idx(data)


@pytest.mark.parametrize("start", [b"PK\x03\x04", b"\x89PNG", b"\x1f\x8b\x08\x00"])
def test_a_different_file_is_not_taken_for_idx(start):
    with pytest.raises(IDXFormatError, match="does not start like an IDX file"):
        parse_idx(start + b"\0" * 100)


def _replace(fake, monkeypatch, name, content):
    """Serve ``content`` as ``name`` in the fake registry (its digests updated to match)."""
    fake.content[name] = content
    fake.gzipped[name] = gz(content)
    (fake.server / (name + ".gz")).write_bytes(fake.gzipped[name])
    for dataset in ("mnist", "fashion-mnist"):
        digests = dict(datasets.DIGESTS[dataset])
        digests[name] = (hashlib.sha256(fake.gzipped[name]).hexdigest(), hashlib.sha256(content).hexdigest())
        monkeypatch.setitem(datasets.DIGESTS, dataset, digests)


def test_images_and_labels_of_different_counts_are_refused(fake, monkeypatch):
    _replace(fake, monkeypatch, "train-labels-idx1-ubyte", idx_bytes(np.arange(5)))
    with pytest.raises(IDXFormatError, match="6 images but 5 labels"):
        load_mnist(cache=fake.cache, mirrors=fake.mirrors)


def test_images_of_another_value_type_are_refused(fake, monkeypatch):
    ints = np.zeros((6, 28, 28), ">i4")
    _replace(fake, monkeypatch, "train-images-idx3-ubyte",
             bytes([0, 0, 0x0C, 3]) + struct.pack(">3I", *ints.shape) + ints.tobytes())
    with pytest.raises(IDXFormatError, match="images should be uint8 .*int32"):
        load_mnist(cache=fake.cache, mirrors=fake.mirrors)


def test_a_truncated_gz_is_rejected_with_the_reason(fake, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for k, v in fake.gzipped.items():
        (folder / (k + ".gz")).write_bytes(v)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(fake.gzipped["t10k-images-idx3-ubyte"][:-20])
    with pytest.raises(DatasetNotFoundError, match="t10k-images-idx3-ubyte.gz is not a complete gzip file"):
        load_fashion_mnist(path=folder, cache=fake.cache, download=False)


def test_a_gz_that_inflates_beyond_any_dataset_file_is_not_read_to_the_end(fake, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(2**26 + 2**20), compresslevel=1))
    with pytest.raises(DatasetNotFoundError, match="inflates to more than 67,108,864 bytes"):
        load_fashion_mnist(path=folder, cache=fake.cache, download=False)


def test_a_corrupt_cached_file_is_replaced_by_a_good_download(fake):
    folder = fake.cache / "mnist"
    folder.mkdir(parents=True)
    name = "train-images-idx3-ubyte.gz"
    (folder / name).write_bytes(fake.gzipped["train-images-idx3-ubyte"][:-30])       # an old, cut download
    (xtr, _), _ = load_mnist(cache=fake.cache, mirrors=fake.mirrors)
    np.testing.assert_array_equal(xtr, parse_idx(fake.content["train-images-idx3-ubyte"]))
    assert (folder / name).read_bytes() == fake.gzipped["train-images-idx3-ubyte"]
    assert not list(folder.glob("*.part"))


def test_an_unreadable_file_is_reported_and_the_search_goes_on(fake, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for k, v in fake.gzipped.items():
        (folder / (k + ".gz")).write_bytes(v)
    real_read = Path.read_bytes

    def read_bytes(self):
        if self.name == "train-labels-idx1-ubyte.gz" and self.parent == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DatasetNotFoundError, match="train-labels-idx1-ubyte.gz could not be read: PermissionError"):
        load_mnist(path=folder, cache=fake.cache, download=False)
    (xtr, _), _ = load_mnist(path=folder, cache=fake.cache, mirrors=fake.mirrors)      # downloaded instead
    assert xtr.shape == (6, 28, 28)


def _cache_that_cannot_be_written(kind, fake, tmp_path, monkeypatch):
    if kind == "a file in the way":            # works as root too, where permissions do not stop anyone
        blocker = tmp_path / "blocker"
        blocker.write_text("not a folder")
        return blocker / "cache"
    if kind == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    if kind == "disk full":
        def full(fd):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(os, "fsync", full)
        return fake.cache
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["a file in the way", "read-only folder", "disk full"])
def test_a_cache_that_cannot_be_written_keeps_the_download_in_memory_and_says_what_to_do(
        fake, tmp_path, monkeypatch, kind):
    cache = _cache_that_cannot_be_written(kind, fake, tmp_path, monkeypatch)
    with pytest.warns(datasets.CacheWarning) as record:
        (xtr, ytr), (xte, _) = load_mnist(cache=cache, mirrors=fake.mirrors)
    np.testing.assert_array_equal(xtr, parse_idx(fake.content["train-images-idx3-ubyte"]))
    assert len(record) == 1, [str(r.message) for r in record]
    text = str(record[0].message)
    assert str(cache / "mnist") in text and "cache=" in text and "downloaded again next time" in text
    assert all(f + ".gz" in text for f in FILES)
    if cache.is_dir():
        assert not list(cache.rglob("*.part")), "a partial file was left behind"


# -- memory: a learner's kernel on a shared server has a budget ------------------------------------------

@pytest.mark.parametrize("compressed", [True, False])
def test_loading_holds_one_file_and_its_array_at_a_time_not_copies(monkeypatch, tmp_path, compressed):
    import tracemalloc

    r = np.random.default_rng(0)
    content = {"train-images-idx3-ubyte": idx_bytes(r.integers(0, 256, (20000, 28, 28))),     # 15.7 MB
               "train-labels-idx1-ubyte": idx_bytes(r.integers(0, 10, 20000)),
               "t10k-images-idx3-ubyte": idx_bytes(r.integers(0, 256, (5000, 28, 28))),
               "t10k-labels-idx1-ubyte": idx_bytes(r.integers(0, 10, 5000))}
    stored = {k: gz(v) if compressed else v for k, v in content.items()}
    digests = {k: (hashlib.sha256(gz(v)).hexdigest(), hashlib.sha256(v).hexdigest()) for k, v in content.items()}
    monkeypatch.setitem(datasets.DIGESTS, "fashion-mnist", digests)
    for k, v in stored.items():
        (tmp_path / (k + (".gz" if compressed else ""))).write_bytes(v)
    monkeypatch.setenv(datasets.SEARCH_ENV, "none")
    tracemalloc.start()
    try:
        (x, y), (xt, yt) = load_fashion_mnist(path=tmp_path, download=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    arrays = x.nbytes + y.nbytes + xt.nbytes + yt.nbytes
    largest = len(stored["train-images-idx3-ubyte"])
    # the arrays, and the largest file's stored bytes while it becomes its array: no second copy of it
    assert peak < arrays + largest + 3e6, f"peak {peak / 1e6:.1f} MB for {arrays / 1e6:.1f} MB of arrays"
    assert x.flags.writeable and x.shape == (20000, 28, 28)
    assert x.tobytes() == content["train-images-idx3-ubyte"][16:]
    x[0, 0, 0] = 1                                              # the learner's own array to change


def test_a_gzip_file_whose_size_field_lies_is_still_read_whole_and_checked():
    payload = bytes(range(256)) * 4000
    data = bytearray(gz(payload))
    data[-4:] = (100).to_bytes(4, "little")                     # the size field says 100 bytes
    with pytest.raises(datasets.ChecksumError, match="not a complete gzip file"):
        datasets._decompress(bytes(data), "the file")           # zlib checks the size field too
    assert datasets._decompress(gz(payload), "the file") == payload
    with pytest.raises(datasets.ChecksumError, match="not a complete gzip file"):
        datasets._decompress(gz(payload)[:-100], "the file")    # cut short
