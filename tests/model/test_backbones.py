"""Backbones: every family builds, weights load from files, offline failures say what to do."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from pipeline.core import backbones  # noqa: E402
from pipeline.core.backbones import (  # noqa: E402
    BackboneWeightsError,
    build_backbone,
    save_base_weights,
)
from pipeline.core.model_params import BackboneParams  # noqa: E402


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("MobileNetV2", 32),
        ("VGG16", 32),
        ("ResNet50", 32),
        ("EfficientNetB0", 32),
        ("InceptionV3", 75),
    ],
)
def test_each_family_builds_offline(name, size):
    model = build_backbone(BackboneParams(name=name, weights="none"), (size, size, 3))
    assert model.get_layer("base") is not None
    assert len(model.output.shape) == 4


def test_weights_written_to_a_file_load_back_identically(tmp_path):
    keras.utils.set_random_seed(3)
    first = build_backbone(BackboneParams(weights="none"), (32, 32, 3))
    path = tmp_path / "mine.weights.h5"
    save_base_weights(first, path)
    again = build_backbone(BackboneParams(weights=str(path)), (32, 32, 3))
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(first.predict(images, verbose=0), again.predict(images, verbose=0))


def test_selfsup_weights_saved_at_one_size_load_at_another(tmp_path):
    path = tmp_path / "backbone.weights.h5"
    save_base_weights(build_backbone(BackboneParams(weights="none"), (64, 64, 3)), path)
    model = build_backbone(BackboneParams(weights="selfsup"), (64, 96, 3), selfsup_weights=path)
    assert model.output.shape[1:3] == (2, 3)


def test_missing_selfsup_weights_say_to_run_pretrain(tmp_path):
    with pytest.raises(BackboneWeightsError, match="pipeline pretrain"):
        build_backbone(BackboneParams(weights="selfsup"), (32, 32, 3), tmp_path / "none.h5")


def test_offline_imagenet_names_the_alternatives(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...")

    monkeypatch.setattr(backbones, "_constructor", lambda name: offline)
    with pytest.raises(BackboneWeightsError) as caught:
        build_backbone(BackboneParams(weights="imagenet"), (32, 32, 3))
    for hint in ("KERAS_HOME", "path of a weights file", "selfsup", "none"):
        assert hint in str(caught.value)


def test_caffe_scaling_turns_rgb_into_bgr_minus_the_imagenet_mean():
    (layer,) = backbones._scaling_layers("caffe")
    model = keras.Sequential([keras.Input((1, 1, 3)), layer])
    out = model.predict(np.array([[[[10.0, 20.0, 30.0]]]], "float32"), verbose=0)[0, 0, 0]
    np.testing.assert_allclose(out, [30 - 103.939, 20 - 116.779, 10 - 123.68], atol=1e-4)


def test_a_model_around_the_backbone_reloads_in_safe_mode(tmp_path):
    backbone = build_backbone(BackboneParams(name="VGG16", weights="none"), (32, 32, 3))
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(backbone(inputs)))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    images = np.full((1, 32, 32, 3), 128.0, "float32")
    np.testing.assert_allclose(
        model.predict(images, verbose=0), again.predict(images, verbose=0), rtol=1e-5
    )


def _offline(params, shape):
    raise BackboneWeightsError("ImageNet weights could not be fetched (offline)")


def test_auto_falls_back_to_the_self_supervised_backbone_offline_and_says_so(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(backbones, "_imagenet_base", _offline)
    monkeypatch.setattr(backbones, "WEIGHTS_USED", [])
    keras.utils.set_random_seed(4)
    selfsup = tmp_path / "backbone.weights.h5"
    save_base_weights(build_backbone(BackboneParams(weights="none"), (32, 32, 3)), selfsup)
    backbones.WEIGHTS_USED.clear()
    auto = build_backbone(BackboneParams(weights="auto"), (32, 32, 3), selfsup_weights=selfsup)
    expected = build_backbone(BackboneParams(weights=str(selfsup)), (32, 32, 3))
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(auto.predict(images, verbose=0), expected.predict(images, verbose=0))
    assert "using the self-supervised backbone" in capsys.readouterr().err
    assert backbones.WEIGHTS_USED[0] == "selfsup"


def test_auto_with_neither_imagenet_nor_a_pretrained_backbone_says_what_to_run(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(backbones, "_imagenet_base", _offline)
    with pytest.raises(BackboneWeightsError, match="pipeline pretrain"):
        build_backbone(
            BackboneParams(weights="auto"), (32, 32, 3), selfsup_weights=tmp_path / "none.h5"
        )


def test_auto_takes_imagenet_when_keras_can_have_it(monkeypatch):
    built = build_backbone(BackboneParams(weights="none"), (32, 32, 3)).get_layer("base")
    monkeypatch.setattr(backbones, "_imagenet_base", lambda params, shape: built)
    monkeypatch.setattr(backbones, "WEIGHTS_USED", [])
    build_backbone(BackboneParams(weights="auto"), (32, 32, 3))
    assert backbones.weights_used() == "imagenet"
