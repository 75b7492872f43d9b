# cudatrain.py - issue 70's GPU program: `import torch` and a small
# transformer (2 encoder layers, d_model 512, batch 32 x 128 tokens) trained
# for N steps (default 40) on the GPU, seeded.  A thread samples the
# process's anonymous and shared resident memory (/proc/self/status RssAnon
# + RssShmem, every 5 ms): its maximum is "the process's peak RSS less its
# file mappings", the figure `run`'s traced peak is compared with.  Prints
# one line: steps, loop seconds, ru_maxrss, that peak, the device's peak.
# Run by scripts/bench/cuda.sh on a machine with an NVIDIA GPU (never in
# make check).
import resource
import sys
import threading
import time

peak = [0]
done = threading.Event()


def rss_anon():
    kib = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssShmem:")):
                kib += int(line.split()[1])
    return kib


def sample():
    while not done.wait(0.005):
        peak[0] = max(peak[0], rss_anon())


threading.Thread(target=sample, daemon=True).start()
import torch  # noqa: E402

steps = int(sys.argv[1]) if sys.argv[1:] else 40
torch.manual_seed(0)
dev = "cuda"
layer = torch.nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True)
model = torch.nn.Sequential(torch.nn.Embedding(1000, 512),
                            torch.nn.TransformerEncoder(layer, 2),
                            torch.nn.Linear(512, 1000)).to(dev)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
x = torch.randint(0, 1000, (32, 128), device=dev)
y = torch.randint(0, 1000, (32, 128), device=dev)
t0 = time.time()
for _ in range(steps):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x).view(-1, 1000), y.view(-1))
    loss.backward()
    opt.step()
torch.cuda.synchronize()
secs = time.time() - t0
peak[0] = max(peak[0], rss_anon())
done.set()
print("cudatrain steps %d loop %.2f s maxrss %d KiB anon+shmem peak %d KiB device peak %d MiB loss %.3f"
      % (steps, secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, peak[0],
         torch.cuda.max_memory_allocated() >> 20, loss.item()), flush=True)
