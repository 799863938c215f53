"""``python -m harness prepare``: the model (trained here, or a user's file), every variant it can make."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from harness.cli_args import input_size_list, non_negative_int, positive_float, positive_int

DEFAULT_TRAIN_MINUTES = 30.0  # the prepare module's default, without importing it (and numpy)
DEFAULT_QAT_EPOCHS = 1  # at a rate of 1e-5, two epochs moved the median activation range by 0.4 %
# preprocess.NORMALIZATIONS' names, without importing numpy for --help
NORMALIZATIONS = (
    "raw (0..255), 0-1 (x/255), tf (x/127.5-1), torch (ImageNet mean/std), caffe (BGR minus means)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="resnet50",
        help="resnet50 (default, trained here), tiny (tests only), or your model: the path of a .keras, .h5 "
        "or .onnx file or a TensorFlow SavedModel folder (measured as given)",
    )
    parser.add_argument(
        "--data",
        default="digits",
        help="digits (default, ships with scikit-learn), synthetic, cifar100:PATH, imagefolder:DIR (one "
        "subfolder of JPEG/PNG files per class) or npz:FILE (arrays images and labels)",
    )
    parser.add_argument(
        "--normalize",
        default=None,
        metavar="NAME",
        help=f"your model's pixels (required with a model file): {NORMALIZATIONS}; "
        "the built-in model takes 0-1",
    )
    parser.add_argument(
        "--resize",
        default="center-crop",
        choices=("center-crop", "stretch"),
        help="how images of another size meet the model's input (default center-crop: no distortion)",
    )
    parser.add_argument(
        "--calibration-images",
        type=positive_int,
        default=None,
        metavar="N",
        help="images the int8 files calibrate on (default 512, at most a quarter of an image folder or .npz)",
    )
    parser.add_argument(
        "--eval-images",
        type=positive_int,
        default=None,
        metavar="N",
        help="images every variant is evaluated on, none of them calibration images (default: the data "
        "set's test split; of an image folder or .npz the rest, up to 1000)",
    )
    parser.add_argument(
        "--split-seed",
        type=non_negative_int,
        default=0,
        help="seed of the calibration/eval split (default 0)",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="float training epochs: the length of the one-cycle schedule (default 12)",
    )
    parser.add_argument(
        "--train-minutes",
        type=positive_float,
        default=DEFAULT_TRAIN_MINUTES,
        help=f"time cap of the default training, minutes (default {DEFAULT_TRAIN_MINUTES:g})",
    )
    parser.add_argument(
        "--qat-epochs",
        type=positive_int,
        default=None,
        help=f"QAT fine-tuning epochs (default {DEFAULT_QAT_EPOCHS})",
    )
    parser.add_argument(
        "--input-size",
        type=input_size_list,
        default=None,
        help="image sides: for the built-in model sets for e.g. 32,224 (the seed's 32, trained there, "
        "always; another side's set is made from its weights in the subfolder SIDExSIDE); for your model "
        "the side of a dynamic input (default: the model's own)",
    )
    parser.add_argument("--out", type=Path, required=True, help="artifacts directory")
    parser.add_argument(
        "--events",
        action="store_true",
        help="also write progress as JSON lines (harness.schema.ProgressEvent) to stderr, for the host",
    )


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    # TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX512-VNNI or newer;
    # without them training runs Eigen's Conv2DBackpropInput, 4.5x slower per step on an AVX2
    # Zen 3 (4.7 s vs 1.05 s at batch 64). Training only: measure keeps TensorFlow's default.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    from harness.bench.progress import StepProgress
    from harness.bench.sources import is_user_model

    started = time.perf_counter()
    log = StepProgress("prepare", events=args.events)
    if is_user_model(args.model):
        manifest = _user(args, log)
        sides = f"{manifest.input_size}×{manifest.input_size}"
        made = f"{len(manifest.variants)} variants ({len(manifest.not_made)} not made)"
    else:
        manifest = _builtin(args, log)
        sides = ", ".join(f"{size}×{size}" for size in sorted({32, *(args.input_size or ())}))
        made = f"{len(manifest.variants)} variants"
    print(
        f"prepared {made} of {manifest.model} on {manifest.data} at {sides} in {args.out} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return 0


def _builtin(args: argparse.Namespace, log):
    from harness.bench.data import load_dataset
    from harness.bench.model import model_config
    from harness.bench.prepare import PrepareConfig, prepare
    from harness.cli_args import check_builtin_sizes
    from harness.errors import UserError

    model_config(args.model, 100)  # unknown model: fail before loading data
    check_builtin_sizes(args.input_size or ())
    if args.normalize not in (None, "0-1"):
        raise UserError(
            f"the built-in {args.model} is trained on pixels 0-1; drop --normalize {args.normalize}."
        )
    if args.data.startswith(("imagefolder:", "npz:")) or args.calibration_images or args.eval_images:
        raise UserError(
            "the built-in model trains on digits, cifar100:PATH or synthetic data; image folders, .npz files "
            "and --calibration-images/--eval-images are for your own model (--model PATH)."
        )
    dataset = load_dataset(args.data)
    config = PrepareConfig(
        args.model,
        args.epochs,
        args.qat_epochs or DEFAULT_QAT_EPOCHS,
        args.out,
        args.train_minutes,
        args.input_size or (32,),
    )
    return prepare(config, dataset, log)


def _user(args: argparse.Namespace, log):
    from harness.bench.data_files import ImageRequest, load_images
    from harness.bench.prepare import PrepareConfig, prepare_user
    from harness.bench.preprocess import normalization_name
    from harness.bench.sources import open_user_model
    from harness.errors import UserError

    if args.epochs or args.qat_epochs:
        raise UserError(
            "your model is measured as given: quantbench trains and fine-tunes (QAT) only its "
            "built-in model; "
            "drop --epochs and --qat-epochs."
        )
    if args.input_size and len(args.input_size) > 1:
        raise UserError("your model is measured at one input size: give --input-size one side, e.g. 224.")
    source = open_user_model(args.model)  # a name that is no built-in model and no file: said first
    if args.normalize is None:
        raise UserError(
            f"say how your model expects its pixels with --normalize: {NORMALIZATIONS}; quantbench does not "
            "guess it."
        )
    normalize = normalization_name(args.normalize)
    spec = source.input_spec(args.input_size[0] if args.input_size else None)
    request = ImageRequest(
        spec.height,
        spec.width,
        spec.channels,
        args.resize,
        args.calibration_images,
        args.eval_images,
        args.split_seed,
    )
    dataset = load_images(args.data, request)
    config = PrepareConfig(args.model, None, 0, args.out, input_sizes=(spec.side,), normalize=normalize)
    return prepare_user(config, source, spec, dataset, log)
