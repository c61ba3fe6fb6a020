#!/usr/bin/python3
"""Training throughput of mcunas's float engine against PyTorch on the CPU.

Both train the issue's largest subnet (W 0.5, R 28, stem 3x3 s1, stages
0.5 x [16, 24, 32, 64, 96] with strides [1, 2, 2, 1, 2], depth 4, kernel 7,
expand 6, head 640; 25.2 M MACs) on synthetic 28x28x1 batches: forward,
softmax cross-entropy, backward and an SGD (Nesterov) update per step, same
batch, same thread count, PyTorch in channels-last. The two are run in
alternation (rounds) so that a machine shared with other work loads both
alike; the ratio is of the medians.

  scripts/setup --bench   # installs python3-torch
  /usr/bin/python3 bench/compare_pytorch.py \
      --bench build-supernet/bench/mcunas_train_throughput

Padding: mcunas uses TFLite SAME padding (the engine's); PyTorch pads k//2
on both sides. Output sizes and MACs are identical; only stride-2 windows
are shifted by one pixel, which does not change the work.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, cin, cout, kernel, stride, expand):
        super().__init__()
        mid = cin * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid),
                       nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid,
                             bias=False), nn.BatchNorm2d(mid),
                   nn.ReLU6(inplace=True),
                   nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return y + x if self.residual else y


def mbnet(width=0.5, depth=4, kernel=7, expand=6, classes=10):
    stem = round(32 * width)
    layers = [nn.Conv2d(1, stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem),
              nn.ReLU6(inplace=True)]
    cin = stem
    for channels, stride in zip([16, 24, 32, 64, 96], [1, 2, 2, 1, 2]):
        cout = round(channels * width)
        for b in range(depth):
            layers.append(Block(cin, cout, kernel, stride if b == 0 else 1,
                                expand))
            cin = cout
    head = round(1280 * width)
    layers += [nn.Conv2d(cin, head, 1, bias=False), nn.BatchNorm2d(head),
               nn.ReLU6(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(head, classes)]
    return nn.Sequential(*layers)


def torch_images_per_second(batch, threads, seconds):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = mbnet().to(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          nesterov=True, weight_decay=4e-5)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 1, 28, 28).to(memory_format=torch.channels_last)
    y = torch.arange(batch) % 10

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps * batch / (time.perf_counter() - start)


def mcunas_images_per_second(bench, batch, threads, seconds):
    out = subprocess.run(
        [bench, f"--benchmark_filter=BM_TrainStep/{batch}/{threads}/0/",
         f"--benchmark_min_time={seconds}", "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    result = json.loads(out)["benchmarks"][0]
    return result["images_per_second"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", default="build-supernet/bench/mcunas_train_throughput")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=20.0,
                   help="timed seconds per measurement")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    if args.batch != 128 or args.threads not in (1, 2):
        p.error("the C++ benchmark registers batch 128 with 1 or 2 threads")

    print(f"torch {torch.__version__}, batch {args.batch}, {args.threads} "
          f"threads, load average before {os.getloadavg()[0]:.2f}")
    ours, theirs = [], []
    for r in range(args.rounds):
        ours.append(mcunas_images_per_second(args.bench, args.batch,
                                             args.threads, args.seconds))
        theirs.append(torch_images_per_second(args.batch, args.threads,
                                              args.seconds))
        print(f"round {r + 1}: mcunas {ours[-1]:.1f} img/s, "
              f"pytorch {theirs[-1]:.1f} img/s")
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"median: mcunas {a:.1f} img/s, pytorch {b:.1f} img/s, "
          f"ratio {a / b:.2f}x (load average after {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
