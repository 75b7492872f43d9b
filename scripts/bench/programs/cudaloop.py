# cudaloop.py - issue 70 item 5's attach target on a GPU machine: after
# `import torch` it prints READY and its pid, then trains a linear layer on
# the GPU for S seconds (default 20); each step also keeps a 4 KiB
# bytearray at the line marked KEEP, so an attach that charges Python
# lines names this file's KEEP line.  Run by scripts/bench/cuda.sh.
import os
import sys
import time

import torch

secs = float(sys.argv[1]) if sys.argv[1:] else 20.0
model = torch.nn.Linear(1024, 1024).cuda()
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(256, 1024, device="cuda")
kept = []
print("READY", os.getpid(), flush=True)
end = time.time() + secs
while time.time() < end:
    opt.zero_grad()
    model(x).square().mean().backward()
    opt.step()
    kept.append(bytearray(4096))  # KEEP
    if len(kept) > 20000:
        kept.clear()
    time.sleep(0.001)
