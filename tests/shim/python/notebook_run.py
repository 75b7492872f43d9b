"""notebook_run.py - executes a notebook with nbclient (test_python_notebook.sh):
notebook_run.py KERNEL OUT.json CELL...  Each CELL is one code cell's source; the
outputs of every cell go to OUT.json as a list (one list of outputs per cell)."""
import json
import sys

import nbclient
import nbformat

kernel, out, cells = sys.argv[1], sys.argv[2], sys.argv[3:]
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=60, startup_timeout=60,
                                 allow_errors=True)
client.execute()
with open(out, "w") as f:
    json.dump([c.outputs for c in nb.cells], f, indent=1)
