"""Params of the captions task, one model per stage section."""

from typing import Literal

from pydantic import Field, model_validator

from pipeline.core.model_params import BackboneParams
from pipeline.core.section import ImageSizeLimits, Section, tiny


class CaptionsSampleParams(Section):
    images: int = Field(400, gt=0, description="pictures in Flicker8k_Dataset", **tiny(16))
    dev_fraction: float = Field(0.15, ge=0, lt=1)
    test_fraction: float = Field(0.15, ge=0, lt=1)
    width: int = Field(224, ge=64)
    height: int = Field(224, ge=64)


class CaptionsIngestParams(Section):
    layout: Literal["auto", "flickr8k", "kaggle", "flickr30k", "flickr30k_csv"] = Field(
        "auto", description="auto: the one layout whose caption file the folder holds"
    )
    images_dirs: list[str] = Field(
        default_factory=lambda: ["Flicker8k_Dataset", "Flickr8k_Dataset"],
        description="Flickr8k image folder names tried in order (the official one is misspelt)",
    )
    text_dir: str = Field("Flickr8k_text", description="where Flickr8k.token.txt is looked first")
    val_fraction: float = Field(
        0.125, ge=0, lt=1, description="seeded split by image, only without official split files"
    )
    test_fraction: float = Field(0.125, ge=0, lt=1)
    missing_images: Literal["reject", "skip"] = Field(
        "reject",
        description="an image the captions name but the folder lacks: a rejected row (reject), "
        "or left out and counted in the report's dataset.missing_on_disk (skip: a partial copy)",
    )

    @model_validator(mode="after")
    def _train_left(self) -> "CaptionsIngestParams":
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must leave images for train (< 1)")
        return self


class CaptionsValidateParams(ImageSizeLimits):
    min_captions: int = Field(1, gt=0, description="fewer captions than this rejects an image")


FeaturePart = Literal["backbone", "colour_layout"]


class CaptionsFeaturesParams(Section):
    """Image embeddings cached once; language-model changes never recompute them."""

    backbone: BackboneParams | None = Field(
        None, description="override of the shared `backbone` (e.g. InceptionV3 + imagenet)"
    )
    image_size: int = Field(
        128, ge=32, description="side of the square input of the backbone", **tiny(32)
    )
    grid: int = Field(
        2, ge=1, description="feature map average-pooled to grid x grid cells: keeps position"
    )
    colour_grid: int = Field(4, ge=1, description="colour layout: mean and max RGB per cell")
    parts: list[FeaturePart] | Literal["auto"] = Field(
        "auto",
        min_length=1,
        description="what the captioner gets; auto: the backbone with ImageNet weights, else "
        "the best offline choice measured on real photos (features.py); the probe shows all",
    )
    batch_size: int = Field(32, gt=0)


class TextParams(Section):
    """Caption cleaning and vocabulary, as in the textbook."""

    lowercase: bool = True
    punctuation: Literal["delete", "space", "keep"] = Field(
        "delete",
        description="delete: don't -> dont (the book, string.punctuation removed); "
        "space: don't -> don t; keep: left as is",
    )
    keep_words: Literal["alpha", "no_digits", "all"] = Field(
        "alpha",
        description="alpha: only all-letter words (the book's isalpha()); "
        "no_digits: words without a digit; all: every word",
    )
    min_token_length: int = Field(2, ge=1, description="shorter tokens (e.g. 'a') are dropped")
    min_word_count: int = Field(
        10, ge=1, description="rarer train words are out of vocabulary", **tiny(2)
    )
    oov: Literal["unk", "drop"] = Field("unk", description="rare words: <unk> token, or dropped")
    max_length: int | None = Field(
        None, ge=3, description="tokens incl. start/end; None = the longest train caption"
    )


class CaptionsTrainParams(Section):
    text: TextParams = Field(default_factory=TextParams)
    embeddings: str = Field(
        "learned", description="learned | glove:<path to glove.6B.<dim>d.txt> (frozen)"
    )
    embedding_dim: int = Field(
        200, gt=0, description="ignored for GloVe: the file's size", **tiny(8)
    )
    units: int = Field(256, gt=0, description="image dense, LSTM and merge dense sizes", **tiny(16))
    dropout: float = Field(0.5, ge=0, lt=1)
    batch_size: int = Field(64, gt=0)
    epochs: int = Field(30, gt=0, **tiny(1))
    learning_rate: float = Field(2e-3, gt=0)
    patience: int = Field(4, gt=0, description="early stopping on val_loss, best weights kept")
    min_val_images: int = Field(
        10, ge=1, description="fewer val images fail the stage, unless val_from_train is set"
    )
    val_from_train: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="only when val has fewer than min_val_images (a partial copy): this seeded "
        "share of train images joins val for early stopping, and leaves train",
        **tiny(0.25),
    )


class CaptionsEvaluateParams(Section):
    beam_size: int = Field(3, ge=1, **tiny(2))
    batch_size: int = Field(64, gt=0, description="images decoded at once")
    grid_images: int = Field(9, ge=1, description="test images shown in the captions plot")
