"""Engine side of "Load cine file...": read a cine with the engine's readers, write it as ``.seq.nrrd``.

Runs in the background engine process (``PythonSlicer -m cardiacmotion.slicerbridge.convert IN OUT``), where
nibabel, pydicom and OpenCV are installed; the GUI process then reads the ``.seq.nrrd`` with Slicer's own
sequence storage node. Imports no ``slicer``. Exit codes follow the CLI: 2 for bad input.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="cardiacmotion.slicerbridge.convert", description=__doc__.splitlines()[0])
    parser.add_argument("image", help="NIfTI, DICOM file or folder, AVI/MP4, MHD or NRRD")
    parser.add_argument("output", help="the .seq.nrrd to write")
    parser.add_argument("--modality", default="auto", help="auto|mr|echo")
    parser.add_argument("--spacing", type=float, nargs="+", help="pixel spacing (mm) for AVI/MP4")
    args = parser.parse_args(argv)
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.errors import CardiacMotionError
    from cardiacmotion.io import read_image, write_image

    try:
        if not args.output.lower().endswith(".seq.nrrd"):
            raise CardiacMotionError(f"the output must be a .seq.nrrd: {args.output}")
        cine = read_image(args.image, modality=optional_modality(args.modality), spacing=args.spacing)
        write_image(cine, args.output)
    except (CardiacMotionError, OSError) as exc:
        print(f"cardiacmotion: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    print(f"{args.image}: {cine.modality} {cine.view}, {cine.phases} phases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
