"""Write the real-study files the GPU training script needs where ../shared/data is not.

    python scripts/prepare_gpu_data.py OUT_DIR [--data-root ../shared/data]

OUT_DIR/real_train.npz: the training studies (porcine + SCD0000201; SCD0000101 stays out) as
``cardiacmotion train propagation --real-cache`` reads them; OUT_DIR/real_eval/*.npz: every real
study, cropped and compact, as ``cardiacmotion evaluate table --real-cache`` reads them.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from cardiacmotion.evaluation.sources import REAL_STUDIES, save_real_cache
from cardiacmotion.training import datasets


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--data-root", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    args = ap.parse_args()
    out, root = Path(args.out), Path(args.data_root)
    out.mkdir(parents=True, exist_ok=True)
    train = datasets.real_studies(root, sunnybrook=("SCD0000201",))
    assert all(s.name != "SCD0000101" for s in train)
    datasets.save_studies(train, out / "real_train.npz")
    save_real_cache(root, out / "real_eval", list(REAL_STUDIES))
    for f in sorted(out.rglob("*.npz")):
        print(f, f.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()
