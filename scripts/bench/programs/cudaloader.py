# cudaloader.py - issue 70 item 6 on a GPU machine: a DataLoader with 4
# forked workers feeding a model on the GPU (a synthetic dataset of 4,096
# samples of 3x64x64 built in __getitem__, batch 64, 2 epochs).  Prints
# the epochs' seconds.  Run by scripts/bench/cuda.sh.
import time

import torch
from torch.utils.data import DataLoader, Dataset


class Images(Dataset):
    def __len__(self):
        return 4096

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return torch.randn(3, 64, 64, generator=g), i % 10


model = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3), torch.nn.ReLU(),
                            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                            torch.nn.Linear(16, 10)).cuda()
opt = torch.optim.SGD(model.parameters(), lr=0.01)
loader = DataLoader(Images(), batch_size=64, num_workers=4,
                    multiprocessing_context="fork")
t0 = time.time()
for _ in range(2):
    for xb, yb in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xb.cuda()), yb.cuda()).backward()
        opt.step()
torch.cuda.synchronize()
print("cudaloader 2 epochs %.2f s" % (time.time() - t0), flush=True)
