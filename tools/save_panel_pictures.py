"""Put each slider panel's first figure into the saved lessons: python tools/save_panel_pictures.py NOTEBOOK...

A panel of `rustsync.widgets` (its cell tagged `panel`) displays as the widget plus its first figure as an
`image/png` in the same output, so a lesson run and saved with the package keeps a
picture. This script adds it to lessons saved without one: it runs a copy of each notebook in a kernel
(from the notebook's own folder, as JupyterLab would), takes the picture each panel cell
displays, and adds it as `image/png` to that cell's saved output. Nothing else in the
notebook changes: other cells and their outputs, the widget's own data, the metadata.
GitHub, nbviewer and a lesson opened before its kernel runs then show the figure
instead of the text `VBox(children=(HBox(...`.

    python tools/save_panel_pictures.py notebooks/0*.ipynb            # in place
    python tools/save_panel_pictures.py --out /tmp/lessons notebooks/*.ipynb
    python tools/save_panel_pictures.py --check notebooks/*.ipynb     # exit 1 if a panel has no picture
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

WIDGET = "application/vnd.jupyter.widget-view+json"
PNG = "image/png"
PANEL_TAG = "panel"  # the cell tag (JupyterLab: Property Inspector > Cell Tags) that marks a slider panel's cell


def panel_outputs(nb):
    """(cell index, output) for every saved output that displays a widget."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result") and WIDGET in output.get("data", {}):
                yield index, output


def panel_cells(nb):
    """Indexes of the code cells tagged `panel` (they build a panel of `rustsync.widgets`), saved output or not."""
    return [i for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and PANEL_TAG in cell.get("metadata", {}).get("tags", [])]


def pictures(path, timeout=600):
    """Run a copy of the notebook; {cell index: the PNG (base64) its panel displayed first}."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    run = copy.deepcopy(nb)
    client = NotebookClient(run, timeout=timeout, kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
                            resources={"metadata": {"path": str(Path(path).parent.resolve())}})
    client.execute()
    found = {}
    for index, cell in enumerate(run.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET in data and PNG in data:
                found.setdefault(index, data[PNG])
    return found


def add_pictures(nb, found):
    """Add each panel's picture to the saved notebook `nb`; returns how many outputs got one."""
    changed = 0
    with_output = set()
    for index, output in panel_outputs(nb):
        with_output.add(index)
        if index in found and output["data"].get(PNG) != found[index]:
            output["data"][PNG] = found[index]
            changed += 1
    for index, png in found.items():
        if index not in with_output:  # a panel cell saved without output: the picture alone
            nb.cells[index].setdefault("outputs", []).append(nbformat.v4.new_output(
                "display_data", data={PNG: png, "text/plain": "(a slider panel: run this cell to move the sliders)"}))
            changed += 1
    return changed


def missing(nb):
    """Panel cells whose saved output has no picture."""
    pictured = {index for index, output in panel_outputs(nb) if PNG in output["data"]}
    plain = {index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and any(PNG in o.get("data", {}) for o in cell.get("outputs", []))}
    return [i for i in panel_cells(nb) if i not in pictured and i not in plain]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, help="write the notebooks here instead of in place")
    parser.add_argument("--check", action="store_true", help="only report panel cells without a picture")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.check:
            lacking = missing(nb)
            print(f"{path}: {len(panel_cells(nb))} panel cell(s), {len(lacking)} without a picture"
                  + (f" (cells {lacking})" if lacking else ""))
            status |= bool(lacking)
            continue
        if not panel_cells(nb):
            print(f"{path}: no panel")
            continue
        found = pictures(path)
        changed = add_pictures(nb, found)
        target = args.out / path.name if args.out else path
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        print(f"{path}: {len(found)} panel picture(s), {changed} output(s) updated -> {target}")
        lacking = missing(nb)
        if lacking:
            print(f"  cells {lacking} build a panel but showed no picture when run", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
