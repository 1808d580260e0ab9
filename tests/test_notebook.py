"""The hotspot notebook runs top to bottom on the current library, and is committed clean."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "hotspot_analysis.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], "strip outputs before committing"
            assert cell.execution_count is None


def test_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # nothing is written beside the notebook
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    text = "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    # The walkthrough shows a ranking with intervals, the refusal, and a run that finds the cluster.
    assert "Intervals are exact Poisson 95% intervals" in text
    assert "needs at least 30" in text
    assert "Gi* not computed" in text
    assert "hotspot cell(s)" in text
    # Library code warns nothing a reader would see.
    streams = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in streams if o.get("name") == "stderr"], "a cell wrote to stderr"
