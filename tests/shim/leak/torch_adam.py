# torch_adam.py - a training program that reaches torch::isStorage, for
# test_leak_torch: nn.Linear trained 3 steps by Adam on
# one thread, seeded.  Adam's first step makes its step count with
# torch.tensor(0.), whose constructor asks isStorage, whose first call
# imports torch.storage from C++ and keeps that reference
# (loadTypedStorageTypeObject: the built-in entry "PyTorch 1.13 on").
# Prints the last loss.
import torch

torch.manual_seed(0)
torch.set_num_threads(1)
model = torch.nn.Linear(8, 4)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
x = torch.randn(16, 8)
for _ in range(3):
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
print("loss %.4f" % loss.item())
