"""One rule for file names made from what users type: safe as one name component, and unique in an export."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.file_names import MAX_STEM_BYTES, safe_file_stem, unique_stems


@pytest.mark.parametrize(("text", "stem"), [
    ("bikes", "bikes"),
    ("training/01", "training_01"),
    ("a\\b:c*d?e\"f<g>h|i", "a_b_c_d_e_f_g_h_i"),
    ("..", "file"),
    ("../../etc/passwd", "etc_passwd"),
    (".hidden", "hidden"),
    ("line\nbreak\x00nul", "line_break_nul"),
    ("", "file"),
    ("///", "file"),
    ("CON", "file_CON"),
    ("nul.txt", "file_nul.txt"),
    ("Straße 5", "Straße_5"),
])
def test_safe_file_stem_gives_one_name_component(text: str, stem: str) -> None:
    assert safe_file_stem(text) == stem


def test_a_long_name_is_cut_on_a_character_boundary(tmp_path: Path) -> None:
    stem = safe_file_stem("é" * 400)
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES and set(stem) == {"é"}
    (tmp_path / f"{stem}-0123456789abcdef.annotated.mp4").write_bytes(b"")  # the file system takes it


def test_unique_stems_tell_apart_names_one_file_would_take() -> None:
    stems = {"v1": "training_01", "v2": "Training_01", "v3": "testing_01", "v4": "training_01-v1"}
    found = unique_stems(stems, {key: key for key in stems})
    assert found["v3"] == "testing_01"  # unique: unchanged
    assert len({stem.casefold() for stem in found.values()}) == 4
    assert found["v1"].startswith("training_01-") and found["v2"].startswith("Training_01-")
