"""numpy <-> MRML. Imports ``slicer`` (real Slicer or the slicer-core wheel), never ``qt``."""
