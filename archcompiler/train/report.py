"""The text `archc evaluate` prints (the same figures as its --format json)."""

from __future__ import annotations

from typing import Any


def render_evaluation(report: dict[str, Any]) -> str:
    width = max([len("class"), *(len(c["class"]) for c in report["per_class"])])
    lines = [
        f"{report['images']:,} images: accuracy {report['accuracy']:.4f}, "
        f"loss {report['loss']:.4f}"
        + (f", top-5 accuracy {report['top5_accuracy']:.4f}" if "top5_accuracy" in report else ""),
        "",
        f"{'class':<{width}}  precision  recall     f1  support",
    ]
    for c in report["per_class"]:
        lines.append(
            f"{c['class']:<{width}}  {c['precision']:9.4f}  {c['recall']:6.4f}  "
            f"{c['f1']:5.4f}  {c['support']:7,}"
        )
    lines.append("")
    lines.append(
        f"Wrote the confusion matrix to {report['confusion_png']} and this report to "
        f"{report['report_json']}."
    )
    return "\n".join(lines)
