# frames.py - a data-frame script (issue 70 item 3): three frames of N rows
# (100k by default), a groupby with several aggregates, a merge on a key,
# a pivot table and a sort; numpy seeded, so every run does the same work.
# Prints a checksum; scripts/bench/pyimports.py times it.
import sys

import numpy as np
import pandas as pd

n = int(sys.argv[1]) if sys.argv[1:] else 100_000
rng = np.random.default_rng(0)
sales = pd.DataFrame({"store": rng.integers(0, 50, n), "item": rng.integers(0, 200, n),
                      "qty": rng.integers(1, 10, n), "day": rng.integers(0, 28, n)})
items = pd.DataFrame({"item": np.arange(200), "price": rng.random(200) * 20,
                      "family": ["f%d" % (i % 12) for i in range(200)]})
stores = pd.DataFrame({"store": np.arange(50), "city": ["c%d" % (i % 7) for i in range(50)]})
extra = pd.DataFrame({"store": rng.integers(0, 50, n), "day": rng.integers(0, 28, n),
                      "visits": rng.integers(0, 500, n)})
full = sales.merge(items, on="item").merge(stores, on="store")
full["revenue"] = full["qty"] * full["price"]
by = full.groupby(["city", "family"]).agg(revenue=("revenue", "sum"), qty=("qty", "mean"),
                                          n=("item", "count"))
pivot = full.pivot_table(index="day", columns="city", values="revenue", aggfunc="sum")
visits = extra.groupby(["store", "day"], as_index=False)["visits"].sum()
joined = full.merge(visits, on=["store", "day"], how="left").sort_values(["revenue", "day"])
print("%d %d %.1f %.1f" % (len(by), len(joined), pivot.to_numpy().sum(), joined["visits"].sum()))
