"""keras-hub's RetinaNet network: which backbones and input sizes it can be built on."""

import pytest

pytest.importorskip("keras_hub")

from pipeline.core.errors import PipelineError
from pipeline.core.model_params import BackboneParams
from pipeline.tasks.plates.detectors import CenterNet, RetinaNet, detector_of
from pipeline.tasks.plates.params import PlatesTrainParams

BACKBONE = BackboneParams(name="MobileNetV2", weights="none", alpha=0.35)


def _params(**changes):
    return PlatesTrainParams(detector="retinanet", **{"input_size": (64, 64), **changes})


def test_retinanet_rejects_unsupported_backbones_and_input_sizes():
    with pytest.raises(PipelineError, match="RetinaNet"):
        RetinaNet().build(_params(), BackboneParams(name="InceptionV3", weights="none"))
    with pytest.raises(PipelineError, match="multiples of 32"):
        RetinaNet().build(_params(input_size=(48, 64)), BACKBONE)


def test_each_built_network_is_known_as_its_own_kind():
    retinanet, _ = RetinaNet().build(_params(), BACKBONE)
    centernet, _ = CenterNet().build(PlatesTrainParams(input_size=(64, 64)), BACKBONE)
    assert isinstance(detector_of(retinanet), RetinaNet)
    assert isinstance(detector_of(centernet), CenterNet)
