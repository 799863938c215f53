"""Data loading: CIFAR-100 directories the test writes itself, hostile and broken files."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from harness.bench.data import load_cifar100, load_dataset, load_digits, read_restricted_pickle
from harness.errors import UserError


def write_cifar_dir(root: Path, train: int = 20, test: int = 10, protocol: int = 2) -> Path:
    rng = np.random.default_rng(1)
    root.mkdir(parents=True, exist_ok=True)
    for name, count in (("train", train), ("test", test)):
        split = {
            b"filenames": [f"img{i}.png".encode() for i in range(count)],
            b"fine_labels": [int(x) for x in rng.integers(0, 100, count)],
            b"coarse_labels": [int(x) for x in rng.integers(0, 20, count)],
            b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
        }
        (root / name).write_bytes(pickle.dumps(split, protocol=protocol))
    (root / "meta").write_bytes(pickle.dumps({b"fine_label_names": [b"x"] * 100}, protocol=protocol))
    return root


class MarkerPayload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_directory_loads_channel_major_rows_as_nhwc(tmp_path, protocol):
    root = write_cifar_dir(tmp_path / "cifar", protocol=protocol)
    dataset = load_cifar100(root)
    raw = pickle.loads((root / "test").read_bytes())
    assert dataset.eval_images.shape == (10, 32, 32, 3)
    assert dataset.train_images.shape == (20, 32, 32, 3)
    # pixel (row 0, col 1) of image 0: R at 1, G at 1024+1, B at 2048+1 of the row
    row = raw[b"data"][0]
    assert list(dataset.eval_images[0, 0, 1]) == [row[1], row[1025], row[2049]]
    assert list(dataset.eval_labels) == raw[b"fine_labels"]
    assert dataset.num_classes == 100 and dataset.has_labels


def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "code-ran"
    root = write_cifar_dir(tmp_path / "cifar")
    (root / "test").write_bytes(pickle.dumps({b"data": MarkerPayload(marker)}, protocol=2))
    # the payload really is live: a plain unpickler would run it
    assert not marker.exists()
    with pytest.raises(UserError, match="nothing in it was run"):
        load_cifar100(root)
    assert not marker.exists()
    pickle.loads((root / "test").read_bytes())
    assert marker.exists()


def test_truncated_file_is_named(tmp_path):
    root = write_cifar_dir(tmp_path / "cifar")
    payload = (root / "train").read_bytes()
    (root / "train").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(UserError, match=r"train.*(truncated|not a valid pickle)"):
        load_cifar100(root)


def test_missing_test_file(tmp_path):
    root = write_cifar_dir(tmp_path / "cifar")
    (root / "test").unlink()
    with pytest.raises(UserError, match="no 'test' file"):
        load_cifar100(root)


def test_labels_out_of_range(tmp_path):
    root = write_cifar_dir(tmp_path / "cifar")
    split = pickle.loads((root / "test").read_bytes())
    split[b"fine_labels"][3] = 100
    (root / "test").write_bytes(pickle.dumps(split, protocol=2))
    with pytest.raises(UserError, match=r"outside 0\.\.99"):
        load_cifar100(root)


def test_wrong_image_shape(tmp_path):
    root = write_cifar_dir(tmp_path / "cifar")
    split = pickle.loads((root / "test").read_bytes())
    split[b"data"] = np.zeros((10, 28 * 28), np.uint8)
    (root / "test").write_bytes(pickle.dumps(split, protocol=2))
    with pytest.raises(UserError, match="784 bytes, not 3072"):
        load_cifar100(root)


def test_missing_directory_and_unknown_spec(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_dataset(f"cifar100:{tmp_path / 'nope'}")
    with pytest.raises(UserError, match="unknown --data"):
        load_dataset("imagenet")


def test_restricted_pickle_still_reads_plain_containers(tmp_path):
    path = tmp_path / "p"
    path.write_bytes(pickle.dumps({b"a": [1, 2.5, "x", (3,)]}, protocol=2))
    assert read_restricted_pickle(path) == {b"a": [1, 2.5, "x", (3,)]}


def test_digits_are_real_labelled_images():
    dataset = load_digits()
    assert dataset.eval_images.shape[1:] == (32, 32, 3) and dataset.eval_images.dtype == np.uint8
    assert len(dataset.train_images) + len(dataset.eval_images) == 1797
    assert set(np.unique(dataset.eval_labels)) == set(range(10))
    assert dataset.eval_images.max() == 255 and dataset.has_labels
