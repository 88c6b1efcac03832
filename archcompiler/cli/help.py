"""`archc --help` and each command's help: whole descriptions, and examples that run.

Click shortens each command's description in the group's list to fit one line ("Validate
SPECS and infer every…"); `ArchcGroup` shows the whole first paragraph, wrapped. Every command
gets an "Examples" epilog from `EXAMPLES`; tests/test_cli.py parses each example with the
command's own parser, so an example cannot name an option that does not exist.
"""

from __future__ import annotations

import importlib

import click

# The module that defines each command: imported when the command is looked up, so that
# `archc check` does not import the training, export or explain modules (~30 ms).
COMMAND_MODULES = {
    **dict.fromkeys(("check", "summary", "build", "graph", "schema", "blocks", "docs"), "design"),
    **dict.fromkeys(("train", "evaluate", "predict"), "training"),
    **dict.fromkeys(("resolve", "diff"), "inspect"),
    "explain": "explain", "export": "export", "sweep": "sweep", "zoo": "zoo",
}  # fmt: skip

EXAMPLES: dict[str, list[str]] = {
    "check": ["archc check specs/*.yaml", "archc check mynet.yaml --set size=160"],
    "summary": [
        "archc summary resnet50 --depth 1",
        "archc summary mobilenet --set alpha=0.5 --columns default,kernel,strides",
        "archc summary vgg16 --format markdown > vgg16.md",
    ],
    "build": [
        "archc build specs/resnet50.yaml -o resnet50.keras",
        "archc build mobilenetv2 --set classes=10 --weights imagenet -o m.keras",
    ],
    "graph": ["archc graph resnet50 -o resnet50.svg --depth 1", "archc graph lenet5 -o l5.dot"],
    "schema": ["archc schema -o archspec.schema.json"],
    "blocks": ["archc blocks", "archc blocks bottleneck"],
    "docs": ["archc docs --check docs"],
    "train": [
        "archc train lenet5 --data digits/ --epochs 10",
        "archc train specs/vgg16_transfer.yaml --data pets/ --cache-features -o runs/pets",
        "archc train lenet5 --data digits/ --resume runs/lenet5-1 --epochs 20",
        "archc train resnet50 --data pets/ --set classes=37 --mixed-precision --jit",
        "archc train lenet5 --data digits/ -o /shared/runs/l5 --cache-dir /scratch/l5-cache "
        "--strategy multi-worker --workers host1:12345,host2:12345 --task 0",
    ],
    "evaluate": ["archc evaluate runs/lenet5-1/model.keras --data digits-test/"],
    "predict": ["archc predict runs/lenet5-1/model.keras seven.png --top 3"],
    "resolve": [
        "archc resolve specs/vgg16_transfer.yaml",
        "archc resolve efficientnetb3 --set size=260 --format json",
        "archc resolve mynet.yaml --strict -o mynet.flat.yaml",
    ],
    "diff": [
        "archc diff vgg16 vgg19",
        "archc diff resnet50 resnet50_v15.yaml --format markdown",
        "archc diff mobilenet mobilenet --set-b alpha=0.5",
    ],
    "sweep": [
        "archc sweep mobilenet --set alpha=0.25,0.5,0.75,1.0 --set size=128,160,192,224",
        "archc sweep resnet50 --set size=160,224 --format csv -o resnet50.csv --plot r50.png",
        "archc sweep lenet5 --set classes=10,100 --measure --batch 16 --runs 5",
    ],
    "explain": [
        "archc explain resnet50.keras",
        "archc explain runs/lenet5-1/model.keras c3 --format json",
        "archc explain m.keras --layers",
    ],
    "zoo": ["archc zoo", "archc zoo --format json", "archc zoo resnet50 > mynet.yaml"],
    "export": [
        "archc export lenet5 -o lenet5.onnx",
        "archc export runs/lenet5-1/model.keras -o lenet5.tflite",
        "archc export mobilenetv2 --set alpha=0.35 -o saved_model/",
    ],
}


class ArchcGroup(click.Group):
    """The `archc` group: whole command descriptions in --help; examples on each command;
    each command's module imported when the command is asked for (click's lazy group)."""

    def get_command(self, ctx: click.Context | None, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")  # it adds itself
        return self.commands.get(name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and self.get_command(ctx, args[0]) is None:
            self.all_commands()  # an unknown name: click suggests the close ones among all
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted(self.all_commands())

    def all_commands(self) -> dict[str, click.Command]:
        """Every command, all their modules imported."""
        for module in dict.fromkeys(COMMAND_MODULES.values()):
            importlib.import_module(f"{__package__}.{module}")
        return self.commands

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        examples = EXAMPLES.get(name or cmd.name or "")
        if examples and not cmd.epilog:
            cmd.epilog = "\b\nExamples:\n" + "\n".join(f"  {e}" for e in examples)
        super().add_command(cmd, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            first = (cmd.help or "").split("\n\n", 1)[0]
            rows.append((name, " ".join(first.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
