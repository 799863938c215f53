"""The second conversion process: a failure names its variants and shows its last lines."""

from __future__ import annotations

import re

import numpy as np
import pytest

from harness.bench.side_conversions import CALIBRATION_FILE, SideConversions
from harness.errors import UserError


def test_a_failed_side_conversion_says_which_and_shows_its_last_lines(tmp_path):
    # no float.onnx in the scratch folder: the ONNX Runtime converter has nothing to start from
    np.save(tmp_path / CALIBRATION_FILE, np.zeros((2, 32, 32, 3), np.float32))
    (tmp_path / "out").mkdir()
    seen = []
    side = SideConversions(
        tmp_path, tmp_path / "out", ["ort-fp32", "ort-int8"], lambda name, _: seen.append(name)
    )
    with pytest.raises(UserError, match=r"ort-fp32, ort-int8\) exited 1 with 0 of 2") as raised:
        side.entries()
    assert re.search(r"\w+Error: ", str(raised.value)) and "run prepare again" in str(raised.value)
    assert seen == [] and list((tmp_path / "out").iterdir()) == []  # no artifact half written
