"""PilotNet's in-model preprocessing matches OpenCV and survives a safe-mode reload."""

import cv2
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from pipeline.tasks.driving.preprocess import frame_preprocessing  # noqa: E402

FRAME = np.random.default_rng(0).integers(0, 256, (160, 320, 3)).astype(np.uint8)


def _model(layers):
    inputs = keras.Input((160, 320, 3))
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def test_crop_resize_yuv_scale_gives_the_pilotnet_input():
    out = _model(frame_preprocessing()).predict(FRAME[None].astype("float32"), verbose=0)
    assert out.shape == (1, 66, 200, 3)
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_the_yuv_layers_match_opencv():
    layers = frame_preprocessing()
    yuv_only = [layer for layer in layers if layer.name in ("rgb_to_yuv", "saturate")]
    got = _model(yuv_only).predict(FRAME[None].astype("float32"), verbose=0)[0]
    want = cv2.cvtColor(FRAME, cv2.COLOR_RGB2YUV).astype(np.float32)
    assert np.abs(got - want).max() <= 1.0


def test_a_saved_model_reloads_in_safe_mode_with_the_same_output(tmp_path):
    model = _model(frame_preprocessing())
    model.save(tmp_path / "pre.keras")
    again = keras.models.load_model(tmp_path / "pre.keras", safe_mode=True)
    batch = FRAME[None].astype("float32")
    np.testing.assert_array_equal(model.predict(batch, verbose=0), again.predict(batch, verbose=0))


@pytest.mark.train
def test_the_transfer_model_fine_tunes_its_shared_backbone_in_two_phases(tmp_path):
    import tensorflow as tf

    from pipeline.core.finetune import two_phase_fit
    from pipeline.core.model_params import BackboneParams, FinetuneParams
    from pipeline.tasks.driving.model import build_model
    from pipeline.tasks.driving.params import DrivingTrainParams

    params = DrivingTrainParams(model="transfer", transfer_input=(32, 64))
    model, base = build_model(params, BackboneParams(weights="none"))
    assert base is not None and base.name == "base"
    frames = np.stack([FRAME] * 4).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((frames, np.zeros(4, "float32"))).batch(2)
    fit = FinetuneParams(head_epochs=1, finetune_epochs=1, unfreeze=5)
    history = two_phase_fit(
        model, data, data, fit, loss="mse", metrics=[], work_dir=tmp_path, base=base, verbose=0
    )
    assert history["phase"] == [1, 2]
    assert any(w.trainable for w in base.weights)  # phase 2 unfroze the top of the base
