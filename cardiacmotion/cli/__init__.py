"""The command line: the engine's single front door (also used by the Slicer modules)."""
