import pytest

slicer = pytest.importorskip("slicer", reason="slicer-core is not installed")


@pytest.fixture
def scene():
    from cardiacmotion.slicerbridge import headless

    return headless.get_scene(fresh=True)
