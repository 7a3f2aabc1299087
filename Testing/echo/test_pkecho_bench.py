"""``benchmark --echo`` rows (one short run with the bundled PKEcho-Net weights): model-only, bare encoder,
clip end-to-end and the whole-video path, with the model / encoder latency ratio."""
from __future__ import annotations

from cardiacmotion.echo.pkecho_bench import echo_benchmark


def test_echo_benchmark_rows():
    res = echo_benchmark(threads=1, runs=2, warmup=1, video_methods=("pkecho",))
    rows = {r["row"]: r for r in res["rows"]}
    assert set(rows) == {"pkecho model-only", "bare encoder", "pkecho clip end-to-end", "pkecho whole video"}
    assert all(r["frames_per_second"] > 0 and r["p90_s"] >= r["median_s"] for r in rows.values())
    assert rows["pkecho whole video"]["frames"] > 10
    assert res["encoder_ratio"] > 1.0  # the heads cost something on top of the encoder
    assert res["threads"] == 1
