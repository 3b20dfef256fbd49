"""The free-space check names the folder, what needs the space and how much is free."""
import pytest

from helpers.core.disk import NotEnoughDisk, free_bytes, require_free


def test_a_folder_not_yet_made_is_measured_on_its_nearest_existing_parent(tmp_path):
    assert free_bytes(tmp_path / "not" / "yet") == free_bytes(tmp_path) > 0


def test_too_little_space_is_refused_with_the_folder_the_need_and_what_is_free(tmp_path):
    free = free_bytes(tmp_path)
    require_free(tmp_path, free // 2, "half of it")  # enough: nothing raised
    with pytest.raises(NotEnoughDisk, match=f"A test run needs about .* GB free in {tmp_path}, and [0-9.]+ GB are "
                                            f"free there"):
        require_free(tmp_path, free + 10**12, "A test run")
