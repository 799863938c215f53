"""``python -m harness prepare``: train, QAT and convert every variant once."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from harness.cli_args import input_size_list, positive_float, positive_int

DEFAULT_TRAIN_MINUTES = 30.0  # the prepare module's default, without importing it (and numpy)
DEFAULT_QAT_EPOCHS = 1  # at a rate of 1e-5, two epochs moved the median activation range by 0.4 %


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="resnet50", help="resnet50 (default) or tiny (tests only)")
    parser.add_argument(
        "--data",
        default="digits",
        help="digits (default, ships with scikit-learn), synthetic, or cifar100:PATH",
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
        "--qat-epochs", type=positive_int, default=DEFAULT_QAT_EPOCHS, help="QAT fine-tuning epochs"
    )
    parser.add_argument(
        "--input-size",
        type=input_size_list,
        default=(32,),
        help="image sides to make sets for, e.g. 32,224: the seed's 32 (trained there) always; another "
        "side's set is made from its weights in the subfolder SIDExSIDE (default 32)",
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
    from harness.bench.data import load_dataset
    from harness.bench.model import model_config
    from harness.bench.prepare import PrepareConfig, prepare
    from harness.bench.progress import StepProgress

    model_config(args.model, 100)  # unknown model: fail before loading data
    dataset = load_dataset(args.data)
    started = time.perf_counter()
    manifest = prepare(
        PrepareConfig(
            args.model, args.epochs, args.qat_epochs, args.out, args.train_minutes, args.input_size
        ),
        dataset,
        StepProgress("prepare", events=args.events),
    )
    sides = ", ".join(f"{size}×{size}" for size in sorted({32, *args.input_size}))
    print(
        f"prepared {len(manifest.variants)} variants of {manifest.model} on {manifest.data} at {sides} "
        f"in {args.out} ({time.perf_counter() - started:.0f} s)"
    )
    return 0
