"""Training throughput of the default model: patches per second per device and layout.

Runs full optimiser steps (forward, dice+ce loss, backward, AdamW) of the
default ``unet-small`` (mobilenet_v2 encoder, 3.1 M parameters) on random
grey 256-px patches in batches of 8, on the CPU in the default (NCHW) and
``channels_last`` (NHWC) layouts, both in this process so the ratio compares
like with like, and on CUDA (with mixed precision) when there is a GPU::

    python benchmarks/bench_train.py [--steps 10] [--warmup 2] [--threads N]

Data loading is left out: this measures what the network costs.
"""

from __future__ import annotations

import argparse
import time

import torch

from visionkit.modelfolder import ModelConfig, build_model
from visionkit.training.losses import build_loss

PATCH = 256
BATCH = 8


def throughput(device: str, channels_last: bool, steps: int, warmup: int, amp: bool) -> float:
    """Patches per second of ``steps`` timed training steps after ``warmup`` untimed ones."""
    torch.manual_seed(0)
    config = ModelConfig(architecture="unet-small")
    model = build_model(config).to(device)
    loss_fn = build_loss("dice+ce", config.classes).to(device)
    images = torch.randn(BATCH, 1, PATCH, PATCH, device=device)
    labels = torch.randint(0, len(config.classes), (BATCH, PATCH, PATCH), device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=amp):
            loss = loss_fn(model(images), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(warmup):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * BATCH / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per setting")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"unet-small training step, patch {PATCH}, batch {BATCH}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    nchw = throughput("cpu", False, args.steps, args.warmup, amp=False)
    print(f"cpu  NCHW           {nchw:8.1f} patches/s")
    nhwc = throughput("cpu", True, args.steps, args.warmup, amp=False)
    print(f"cpu  channels_last  {nhwc:8.1f} patches/s")
    print(f"channels_last / NCHW on cpu: {nhwc / nchw:.2f}x")
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name()
        for channels_last in (False, True):
            for amp in (False, True):
                value = throughput("cuda", channels_last, args.steps * 5, args.warmup, amp)
                layout = "channels_last" if channels_last else "NCHW"
                print(f"cuda {layout:14s} amp={amp!s:5s} {value:8.1f} patches/s ({name})")
    else:
        print("cuda: not available")


if __name__ == "__main__":
    main()
