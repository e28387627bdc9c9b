"""The targets of issue 5, the stdout table and the PNG chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["chart", "check_targets", "render_tables"]

# The targets (ratios measured side by side, never absolute times).
MIN_B_OVER_A = 0.85
MIN_B_OVER_C = 5.0
TARGET_CONCURRENCIES = (64, 256)
MAX_STAMPEDE_VS_LATENCY = 2.0
MAX_STREAM_GROWTH_MIB = 32.0
MIN_SCALING_RATE_RATIO = 0.85
MAX_SCALING_RSS_RATIO = 1.3


def _target(
    name: str, value: float | None, limit: str, ok: bool | None
) -> dict[str, Any]:
    return {"target": name, "value": value, "limit": limit, "holds": ok}


def _throughput_targets(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in summary:
        if row["client"] != "ours" or row["concurrency"] not in TARGET_CONCURRENCIES:
            continue
        where = f"{row['endpoint']} @ {row['concurrency']}"
        b_a, b_c = row["b_over_a"], row["b_over_c"]
        out.append(
            _target(
                f"b/a {where}",
                b_a,
                f">= {MIN_B_OVER_A}",
                None if b_a is None else b_a >= MIN_B_OVER_A,
            )
        )
        out.append(
            _target(
                f"b/c {where}",
                b_c,
                f">= {MIN_B_OVER_C}",
                None if b_c is None else b_c >= MIN_B_OVER_C,
            )
        )
    return out


def _stampede_targets(stampede: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for run in stampede["runs"]:
        if run["provider"] != "ours":
            continue
        count = run["token_requests"]
        out.append(
            _target(
                f"stampede {run['view']}: token requests", count, "== 1", count == 1
            )
        )
        if run["view"] == "provider":
            ratio = run["vs_latency"]
            out.append(
                _target(
                    "stampede provider: all served / token latency",
                    ratio,
                    f"<= {MAX_STAMPEDE_VS_LATENCY}",
                    ratio <= MAX_STAMPEDE_VS_LATENCY,
                )
            )
    return out


def _pipeline_targets(pipeline: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(pipeline) < 2:
        return []
    small, large = pipeline[0], pipeline[-1]
    rate = large["certs_per_s"] / small["certs_per_s"]
    rss = large["peak_rss_mib"] / small["peak_rss_mib"]
    sizes = f"{large['certificates']}/{small['certificates']}"
    return [
        _target(
            f"pipeline certs/s {sizes}",
            rate,
            f">= {MIN_SCALING_RATE_RATIO}",
            rate >= MIN_SCALING_RATE_RATIO,
        ),
        _target(
            f"pipeline peak RSS {sizes}",
            rss,
            f"<= {MAX_SCALING_RSS_RATIO}",
            rss <= MAX_SCALING_RSS_RATIO,
        ),
    ]


def check_targets(results: dict[str, Any], *, enforce: bool) -> list[dict[str, Any]]:
    """Evaluate every target the results allow; `holds` is None when not enforced.

    Args:
        results: The bench's results (any part may be missing).
        enforce: False in quick mode: values are reported, nothing is judged.

    Returns:
        One entry per target: name, value, limit, holds.
    """
    targets: list[dict[str, Any]] = []
    if "throughput" in results:
        targets += _throughput_targets(results["throughput"]["summary"])
    if "stampede" in results:
        targets += _stampede_targets(results["stampede"])
    if "streaming" in results:
        growth = results["streaming"]["peak_growth_mib"]
        targets.append(
            _target(
                "streaming peak RSS growth (MiB)",
                growth,
                f"<= {MAX_STREAM_GROWTH_MIB}",
                growth <= MAX_STREAM_GROWTH_MIB,
            )
        )
    if "pipeline" in results:
        targets += _pipeline_targets(results["pipeline"]["summary"])
    if not enforce:
        for target in targets:
            target["holds"] = None
    return targets


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return "-" if value is None else str(value)


def _table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))
    body = [
        "  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells
    ]
    return "\n".join([f"\n== {title}", line, *body])


def render_tables(results: dict[str, Any], targets: Sequence[dict[str, Any]]) -> str:
    """The results as plain-text tables, for stdout."""
    parts = []
    columns: tuple[str, ...]
    if "throughput" in results:
        columns = (
            "endpoint",
            "concurrency",
            "client",
            "runs",
            "rps",
            "p50_ms",
            "p99_ms",
            "cpu_us",
            "server_busy",
            "b_over_a",
            "b_over_c",
        )
        parts.append(
            _table("throughput (medians)", results["throughput"]["summary"], columns)
        )
    if "stampede" in results:
        stampede = results["stampede"]
        latency = stampede["token_latency_s"]
        title = f"token stampede (token endpoint latency {latency:.3f} s)"
        columns = (
            "view",
            "provider",
            "callers",
            "token_requests",
            "all_served_s",
            "vs_latency",
        )
        parts.append(_table(title, stampede["runs"], columns))
    if "streaming" in results:
        columns = ("bytes", "seconds", "mib_per_s", "rss_before_mib", "peak_growth_mib")
        parts.append(_table("streaming save", [results["streaming"]], columns))
    if "pipeline" in results:
        columns = (
            "certificates",
            "runs",
            "seconds",
            "certs_per_s",
            "peak_rss_mib",
            "peak_growth_mib",
            "requests",
            "retries",
        )
        parts.append(
            _table(
                "pipeline export (details + csv)",
                results["pipeline"]["summary"],
                columns,
            )
        )
    verdicts = [
        {**t, "holds": {True: "HOLDS", False: "MISSED", None: "not judged"}[t["holds"]]}
        for t in targets
    ]
    parts.append(_table("targets", verdicts, ("target", "value", "limit", "holds")))
    return "\n".join(parts)


def chart(summary: Sequence[dict[str, Any]], path: Path) -> None:
    """Plot requests/s against concurrency, one line per client, one panel per endpoint.

    Args:
        summary: The throughput summary rows.
        path: Where the PNG goes.
    """
    import matplotlib  # noqa: PLC0415 (only needed for the chart)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    endpoints = sorted({r["endpoint"] for r in summary})
    figure, axes = plt.subplots(1, len(endpoints), figsize=(5 * len(endpoints), 4))
    if len(endpoints) == 1:
        axes = [axes]
    for axis, endpoint in zip(axes, endpoints, strict=True):
        for client in ("raw", "ours", "stock"):
            mine = sorted(
                (r["concurrency"], r["rps"])
                for r in summary
                if r["endpoint"] == endpoint and r["client"] == client
            )
            if mine:
                xs, ys = zip(*mine, strict=True)
                axis.plot(xs, ys, marker="o", label=client)
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("concurrency")
        axis.set_ylabel("requests/s (median)")
        axis.set_title(endpoint)
        axis.grid(visible=True, which="both", alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
