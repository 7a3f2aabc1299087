"""Bridge tests run on the slicer-core wheel (no Slicer application); skipped cleanly without it."""
import pytest

slicer = pytest.importorskip("slicer", reason="slicer-core is not installed (pip install cardiacmotion[slicer])")
if not hasattr(slicer, "vtkMRMLScene"):
    pytest.skip("the 'slicer' package here is not slicer-core", allow_module_level=True)


@pytest.fixture
def scene():
    """A fresh headless scene with the module logics (what ``cardiacmotion analyze`` uses too)."""
    from cardiacmotion.slicerbridge import headless

    return headless.get_scene(fresh=True)


@pytest.fixture(scope="session")
def case():
    from cardiacmotion.slicerbridge import selftest

    return selftest.make_case(0, phases=10, slices=6, grid=72)  # the phantom, kept small for a 2-core CI


@pytest.fixture(scope="session")
def toy_case():
    from cardiacmotion.slicerbridge import selftest

    return selftest.toy_mr_case()
