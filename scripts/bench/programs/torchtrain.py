# torchtrain.py - `import torch` and a small CPU training loop (issue 70
# item 4): a 2-layer MLP (64 -> 256 -> 10) trained for 20 SGD steps on a
# fixed random batch, one thread, seeded, so that every run does the same
# work.  Prints the last loss; scripts/bench/pyimports.py times it and
# tests/shim/leak/test_leak_torch.sh checks the leak check's verdicts on it.
import sys

import torch

torch.manual_seed(0)
torch.set_num_threads(1)
steps = int(sys.argv[1]) if sys.argv[1:] else 20
model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(128, 64)
y = torch.randint(0, 10, (128,))
loss_fn = torch.nn.CrossEntropyLoss()
for _ in range(steps):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
print("loss %.4f" % loss.item())
