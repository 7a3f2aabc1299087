"""The scripted modules without Slicer: .ui files load in Qt, the code's widget and parameter names exist,
the engine is importable from where Slicer loads the modules, and the extension metadata is complete."""
import ast
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("CardiacMotionSegmentation", "CardiacMotionScoring")


def _module_source(name: str) -> str:
    return (ROOT / name / f"{name}.py").read_text()


def _ui_path(name: str) -> Path:
    return ROOT / name / "Resources" / "UI" / f"{name}.ui"


def _ui_widgets(name: str) -> dict:
    tree = ET.parse(_ui_path(name))
    return {w.get("name"): w for w in tree.iter("widget")}


@pytest.fixture(scope="module")
def qt_app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    widgets = pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed")
    return widgets.QApplication.instance() or widgets.QApplication([])


@pytest.mark.parametrize("name", MODULES)
def test_ui_loads_with_quiloader(qt_app, name):
    from PySide6.QtCore import QFile
    from PySide6.QtUiTools import QUiLoader

    loader = QUiLoader()
    f = QFile(str(_ui_path(name)))
    assert f.open(QFile.ReadOnly)
    widget = loader.load(f)
    f.close()
    assert widget is not None, loader.errorString()
    assert loader.errorString() == ""
    loaded = {w.objectName() for w in widget.findChildren(object)}
    assert set(_ui_widgets(name)) - {name} <= loaded  # Slicer classes fell back to their base classes


@pytest.mark.parametrize("name", MODULES)
def test_every_widget_the_code_uses_is_in_the_ui(name):
    used = set(re.findall(r"self\.ui\.(\w+)", _module_source(name)))
    assert used, "the widget uses its .ui"
    missing = used - set(_ui_widgets(name))
    assert not missing, f"{name}.py uses widgets missing from the .ui: {sorted(missing)}"


def _parameter_node(name: str) -> dict:
    """Parameter-node annotations and Choice lists from the module source (no Slicer needed)."""
    tree = ast.parse(_module_source(name))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == f"{name}ParameterNode":
            assert any(getattr(d, "id", None) == "parameterNodeWrapper" for d in node.decorator_list)
            out = {}
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign):
                    choices = None
                    for call in ast.walk(stmt.annotation):
                        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Choice":
                            choices = ast.literal_eval(call.args[0])
                    out[stmt.target.id] = choices
            return out
    raise AssertionError(f"no {name}ParameterNode class")


@pytest.mark.parametrize("name", MODULES)
def test_ui_bound_to_typed_parameter_node(name):
    params = _parameter_node(name)
    bound = {}
    for wname, widget in _ui_widgets(name).items():
        for prop in widget.findall("property"):
            if prop.get("name") == "SlicerParameterName":
                bound[prop.find("string").text] = widget
    assert set(bound) <= set(params), f"unknown parameters in the .ui: {set(bound) - set(params)}"
    assert {"inputVolume", "method", "device"} <= set(bound)
    for param, widget in bound.items():
        if params[param] is not None:  # a Choice: the combo box offers exactly those values
            items = [i.find("property/string").text for i in widget.findall("item")]
            assert items == params[param], f"{param}: combo {items} != Choice {params[param]}"


@pytest.mark.parametrize("name", MODULES)
def test_module_has_template_shape(name):
    tree = ast.parse(_module_source(name))
    classes = {n.name: [getattr(b, "id", "") for b in n.bases] for n in tree.body if isinstance(n, ast.ClassDef)}
    assert "ScriptedLoadableModule" in classes[name]
    assert "ScriptedLoadableModuleWidget" in classes[f"{name}Widget"]
    assert "ScriptedLoadableModuleLogic" in classes[f"{name}Logic"]
    assert "ScriptedLoadableModuleTest" in classes[f"{name}Test"]
    src = _module_source(name)
    assert "tryWithErrorDisplay" in src and "from slicer.i18n import tr as _" in src
    top_imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    heavy = {"torch", "cardiacmotion", "nibabel", "qt", "numpy"}
    for node in top_imports:  # optional dependencies only inside functions
        mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        assert mod.split(".")[0] not in heavy, f"{name}.py imports {mod} at module top"
    cmake = (ROOT / name / "CMakeLists.txt").read_text()
    assert "slicerMacroBuildScriptedModule" in cmake and "slicer_add_python_unittest" in cmake
    for resource in (f"Resources/Icons/{name}.png", f"Resources/UI/{name}.ui", "Testing/Python/CMakeLists.txt"):
        assert (ROOT / name / resource).is_file(), resource


LIB = ROOT / "CardiacMotionSegmentation" / "CardiacMotionLib" / "__init__.py"


@pytest.mark.parametrize("layout", ["source checkout", "built"])
def test_engine_importable_from_the_shared_lib(tmp_path, layout):
    """Exec CardiacMotionLib's ensureEngineImportable in a clean interpreter, from the source tree (module
    folders as additional module paths) and from a build tree (Lib beside the engine in qt-scripted-modules)."""
    tree = ast.parse(LIB.read_text())
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "ensureEngineImportable")
    if layout == "built":
        scripted = tmp_path / "qt-scripted-modules"
        (scripted / "CardiacMotionLib").mkdir(parents=True)
        (scripted / "cardiacmotion").symlink_to(ROOT / "cardiacmotion")
        lib_file, expected = scripted / "CardiacMotionLib" / "__init__.py", scripted
    else:
        lib_file, expected = LIB, ROOT
    code = "import os, sys\n" + ast.unparse(func) + textwrap.dedent(f"""
        sys.path = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != {str(ROOT)!r}]
        # a development install of the engine would answer first: Slicer has none
        sys.meta_path = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
        __file__ = {str(lib_file)!r}
        ensureEngineImportable()
        import cardiacmotion
        print(os.path.dirname(os.path.dirname(os.path.abspath(cardiacmotion.__file__))))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == expected


@pytest.mark.parametrize("name", MODULES)
def test_modules_share_one_helper_listed_in_cmake(name):
    """No module keeps its own sys.path code: both import CardiacMotionLib, which the CMake script installs."""
    src = _module_source(name)
    assert "import CardiacMotionLib" in src and "sys.path" not in src
    tree = ast.parse(src)
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "ensureEngineImportable"]
    cmake = (ROOT / "CardiacMotionSegmentation" / "CMakeLists.txt").read_text()
    assert "CardiacMotionLib/__init__.py" in cmake


def test_extension_metadata():
    cmake = (ROOT / "CMakeLists.txt").read_text()
    fields = dict(re.findall(r'set\((EXTENSION_\w+) "([^"]*)"\)', cmake))
    assert fields["EXTENSION_HOMEPAGE"] == "https://github.com/cardiacmotion/SlicerCardiacMotion"
    assert fields["EXTENSION_CATEGORY"] == "Cardiac"
    assert fields["EXTENSION_CONTRIBUTORS"] == "CardiacMotion contributors"
    assert fields["EXTENSION_DEPENDS"] == "PyTorch"
    assert len(fields["EXTENSION_DESCRIPTION"]) > 40
    prefix = "https://raw.githubusercontent.com/cardiacmotion/SlicerCardiacMotion/main/"
    assert fields["EXTENSION_ICONURL"].startswith(prefix)
    assert (ROOT / fields["EXTENSION_ICONURL"][len(prefix):]).is_file()
    assert all(u.startswith(prefix + "Resources/") for u in fields["EXTENSION_SCREENSHOTURLS"].split())
    for name in MODULES:
        assert f"add_subdirectory({name})" in cmake
