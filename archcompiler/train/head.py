"""What the network's last layer says about training it: the loss, the labels, the classes.

softmax over N units → sparse categorical cross-entropy on integer labels; one sigmoid unit →
binary cross-entropy on 0/1 labels; a linear last layer → the same losses `from_logits`. One
rule (`Classifier.of`), read from the compiled Graph before training and from a saved Keras
model's last layer by `archc evaluate`/`predict`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Location, SpecError
from ..graph import Graph

SOFTMAX, SIGMOID, LINEAR = "softmax", "sigmoid", "linear"


@dataclass(frozen=True)
class Classifier:
    """The output layer of a classifier: its name, its units and its final activation."""

    output: str
    units: int
    activation: str  # softmax, sigmoid or linear (logits)

    @classmethod
    def of(cls, output: str, shape: tuple[int, ...], activation: str | None,
           where: Location) -> Classifier:  # fmt: skip
        """The rule: a flat output ending in softmax, sigmoid, or nothing (logits)."""
        act = activation or LINEAR
        if len(shape) != 1:
            raise SpecError.at(
                where, f"the output '{output}' has shape {list(shape)}; training needs a "
                "classifier whose output is one vector of class scores",
                "end the head with e.g. global_avg_pool and a dense layer with softmax",
            )  # fmt: skip
        if act not in (SOFTMAX, SIGMOID, LINEAR):
            raise SpecError.at(
                where, f"the output '{output}' ends in '{act}'; training needs softmax, "
                "sigmoid (one unit, two classes) or no activation (logits)",
            )  # fmt: skip
        if act == SOFTMAX and shape[0] == 1:
            raise SpecError.at(
                where, f"the output '{output}' is a softmax over one unit, which is always 1; "
                "for two classes use one sigmoid unit, or softmax over two units",
            )  # fmt: skip
        if act == SIGMOID and shape[0] != 1:
            raise SpecError.at(
                where, f"the output '{output}' is {shape[0]} sigmoid units; for multi-class "
                "training use softmax (one sigmoid unit is the two-class form)",
            )  # fmt: skip
        return cls(output, shape[0], act)

    @classmethod
    def of_graph(cls, graph: Graph) -> Classifier:
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            where = graph.nodes[graph.outputs[-1]].source or Location(graph.name)
            raise SpecError.at(
                where, f"training needs one input and one output; '{graph.name}' has "
                f"{len(graph.inputs)} and {len(graph.outputs)} ({', '.join(graph.outputs)})",
                "turn extra outputs off, e.g. `--set aux=false` for GoogLeNet",
            )  # fmt: skip
        node = graph.nodes[graph.outputs[0]]
        where = node.source or Location(graph.name)
        return cls.of(node.name, node.shape, _activation_of_node(node.op, node.args), where)

    @property
    def binary(self) -> bool:
        """One unit: two classes, labels 0/1."""
        return self.units == 1

    @property
    def classes(self) -> int:
        return 2 if self.binary else self.units

    @property
    def loss(self) -> str:
        return "binary_crossentropy" if self.binary else "sparse_categorical_crossentropy"

    @property
    def from_logits(self) -> bool:
        return self.activation == LINEAR

    @property
    def label_mode(self) -> str:
        """How keras.utils.image_dataset_from_directory should encode the labels."""
        return "binary" if self.binary else "int"

    def check_classes(self, class_names: tuple[str, ...], where: Location) -> None:
        """The data's classes must fit the output layer."""
        n = len(class_names)
        if n == self.classes:
            return
        if self.binary:
            what = f"one {self.activation} unit, which tells two classes apart"
        else:
            what = f"{self.units} units"
        raise SpecError.at(
            where, f"{n} class folders ({', '.join(class_names[:6])}"
            f"{'…' if n > 6 else ''}) but the output '{self.output}' has {what}",
            "give the spec a `classes` param used by its last layer (archc then sets it "
            "from the folders), or `--set classes=N`",
        )  # fmt: skip


def _activation_of_node(op: str, args: object) -> str | None:
    """The final activation of a primitive node, for the ops a classifier can end in."""
    if op in (SOFTMAX, SIGMOID):
        return op
    if op in ("dense", "activation", "conv"):
        return getattr(args, "activation", None)
    return op  # any other op (relu, pooling…) is not a classifier's last layer


def activation_of_keras_layer(config: dict[str, object], class_name: str) -> str | None:
    """The same question for a saved model's last layer (`archc evaluate`/`predict`)."""
    if class_name == "Softmax":
        return SOFTMAX
    if class_name in ("Dense", "Activation", "Conv2D"):
        act = config.get("activation")
        return act if isinstance(act, str) else None
    return class_name.lower()
