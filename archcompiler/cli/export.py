"""`archc export`: a spec or a saved .keras model → a SavedModel, ONNX, LiteRT or OpenVINO
artifact, checked in its own runtime (archcompiler/export.py)."""

from __future__ import annotations

import click

from ..export import DEFAULT_TOLERANCE, FORMATS
from ..limits import Limits
from ..model_files import check_model_file, check_weights_file
from .app import compile_spec, echo_report, main, no_head_option, reports_errors, spec_options


@main.command()
@click.argument("source", metavar="SPEC|MODEL.keras", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, type=click.Path(),
    help="DIR/ (or a name without a suffix) for a SavedModel, FILE.onnx, FILE.tflite (LiteRT) "
    "or FILE.xml (OpenVINO, with FILE.bin beside it). Written all or nothing.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
    help="The artifact's format [default: from the output's name].",
)  # fmt: skip
@spec_options
@no_head_option
@click.option(
    "--weights", type=click.Path(dir_okay=False), default=None,
    help="Load weights first: a Keras .weights.h5, a legacy .h5 (by layer name) or a .keras.",
)  # fmt: skip
@click.option("--optimize", is_flag=True,
              help="Optimize for inference first: fold batch norms, merge activations, drop "
              "dropout (docs/export.md).")  # fmt: skip
@click.option("--no-verify", is_flag=True,
              help="Do not load the artifact in its runtime to compare it with Keras.")  # fmt: skip
@click.option(
    "--tolerance", type=click.FloatRange(0, min_open=True), default=DEFAULT_TOLERANCE,
    show_default=True,
    help="Largest |Δ| allowed between the artifact's outputs and Keras's, as a fraction of "
    "the largest |output|.",
)  # fmt: skip
@reports_errors
def export(source: str, output: str, fmt: str | None, sets: tuple[str, ...], limits: Limits,
           no_head: bool, weights: str | None, optimize: bool, no_verify: bool,
           tolerance: float) -> None:  # fmt: skip
    """Export SPEC (or a saved MODEL.keras) for serving, through Keras's `model.export`, then
    run the artifact in its own runtime on seeded random input and compare with Keras
    (docs/export.md). The format comes from --format or from the output's name: DIR/ for a
    SavedModel, FILE.onnx, FILE.tflite (LiteRT) or FILE.xml (OpenVINO).
    """
    from ..export import build_from_graph, export_model, load_keras_file, plan_export

    plan_export(output, fmt, not no_verify)  # the format, the output, the packages: no TF yet
    if source.endswith(".keras"):
        if sets or no_head:
            raise click.UsageError("--set and --no-head apply to specs, not to a .keras model")
        check_model_file(source)
        model, lines = load_keras_file(source, weights)
    else:
        if weights is not None:
            check_weights_file(weights)
        model, lines = build_from_graph(compile_spec(source, sets, limits, no_head), weights)
    if optimize:
        from ..optimize import optimize_for_inference

        optimized = optimize_for_inference(model)
        model = optimized.model
        lines.append(optimized.report())
    echo_report(lines)
    echo_report(export_model(model, output, fmt, verify=not no_verify, tolerance=tolerance))
