"""What a release carries: licenses and data terms with every shipped model, a wheel without docs
media, and README / quickstart commands that the installed command line accepts."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import warnings
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import cineaug
from cineaug.cli import app
from cineaug.errors import CineDataError
from cineaug.pretrained import (
    DOCS_ONLY_SUFFIXES,
    DataTermsWarning,
    available,
    catalog,
    load_pretrained,
    model_terms,
    verify_folder,
    write_manifest,
)

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
LOCAL_PATH = re.compile(r"\.\./shared|/root/|/work/|/home/|~/|[A-Za-z]:\\\\")


def test_license_citation_and_changelog_name_the_version():
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert f"version: {cineaug.__version__}" in (ROOT / "CITATION.cff").read_text()
    assert f"## [{cineaug.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.parametrize("name", sorted(available()))
def test_every_shipped_model_states_its_weights_license_and_data_terms(name: str):
    terms = model_terms(name)
    assert terms["weights"], name
    assert terms["data"], name
    card = (available()[name] / "MODEL_CARD.md").read_text()
    assert "## License and terms" in card
    assert terms["weights"] in card
    for data in terms["data"]:
        assert {"name", "terms", "citation", "restricted"} <= set(data), data
        assert data["citation"] in card and data["terms"] in card
    assert not LOCAL_PATH.search(card), f"{name}'s card names a local path: {LOCAL_PATH.search(card)[0]}"
    if any("ACDC" in d["name"] for d in terms["data"]):  # research use only: the weights follow it
        assert "NC" in terms["weights"] and all(d["restricted"] for d in terms["data"] if "ACDC" in d["name"])


def test_catalog_lists_every_model_with_its_data_and_terms():
    rows = {row["name"]: row for row in catalog()}
    assert set(rows) == set(available())
    assert rows["render-acdc80-64"]["resolution"] == 64 and "ACDC" in rows["render-acdc80-64"]["data"]
    assert "research use only" in rows["render-acdc80-64"]["terms"]
    assert rows["progan-sim-64"]["weights"] == "Apache-2.0"
    out = runner.invoke(app, ["models", "--terms"])
    assert out.exit_code == 0, out.output
    assert "render-acdc80-128" in out.output and "Bernard" in out.output and "data terms:" in out.output


def test_loading_a_model_trained_on_restricted_data_says_so():
    with pytest.warns(DataTermsWarning, match="research use only.*Bernard"):
        load_pretrained("render-acdc80-64")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataTermsWarning)
        load_pretrained("progan-sim-64")  # simulator only: nothing to say


def test_docs_only_media_may_be_absent_but_never_altered(tmp_path: Path):
    folder = tmp_path / "m"
    shutil.copytree(available()["render-sim-64"], folder)
    manifest = json.loads((folder / "manifest.json").read_text())["files"]
    assert manifest["samples.gif"]["docs_only"] and "docs_only" not in manifest["model.safetensors"]
    (folder / "samples.gif").unlink()  # as in the wheel
    verify_folder(folder)
    (folder / "samples.gif").write_bytes(b"GIF89a")
    with pytest.raises(CineDataError, match="samples.gif"):
        verify_folder(folder)
    write_manifest(folder)
    verify_folder(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(CineDataError, match="missing"):
        verify_folder(folder)


def test_the_wheel_hook_leaves_out_what_the_manifests_mark_docs_only():
    spec = importlib.util.spec_from_file_location("hatch_build_for_test", ROOT / "hatch_build.py")
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is not installed (pip install -e '.[dev]' brings it with build)")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    assert hook.DOCS_ONLY_SUFFIXES == DOCS_ONLY_SUFFIXES


def test_version_flag():
    out = runner.invoke(app, ["--version"])
    assert out.exit_code == 0 and out.output.strip() == f"cineaug {cineaug.__version__}"


def _commands(markdown: Path) -> list[list[str]]:
    """Every ``cineaug ...`` command of the fenced shell blocks of a Markdown file, as argv (without
    ``cineaug``), comments dropped and ``\\`` continuations joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", markdown.read_text(), flags=re.S):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            for part in line.split("&&"):
                argv = shlex.split(part.split(" #")[0], comments=False)
                if argv[:1] == ["cineaug"]:
                    commands.append(argv[1:])
    return commands


@pytest.mark.parametrize("doc", ["README.md", "docs/quickstart.md"])
def test_every_documented_command_and_option_exists(doc: str):
    commands = _commands(ROOT / doc)
    assert commands, f"no cineaug command found in {doc}"
    names = set(typer.main.get_command(app).commands)
    for argv in commands:
        assert argv[0] in names, f"{doc}: `cineaug {argv[0]}` is not a command ({sorted(names)})"
        helped = runner.invoke(app, [argv[0], "--help"], terminal_width=200)
        assert helped.exit_code == 0, helped.output
        for option in (a.split("=")[0] for a in argv[1:] if a.startswith("--")):
            assert option in helped.output, f"{doc}: `cineaug {argv[0]}` has no option {option}"


def test_the_cheap_documented_commands_run(tmp_path: Path):
    for argv in (["--help"], ["--version"], ["models"]):
        out = runner.invoke(app, argv)
        assert out.exit_code == 0, (argv, out.output)
    readme = [a for a in _commands(ROOT / "README.md") if a[0] == "simulate"]
    assert readme, "the README shows cineaug simulate"
    argv = ["simulate", str(tmp_path / "sim"), "--n", "1", "--workers", "1", "--no-progress"]
    out = runner.invoke(app, argv)
    assert out.exit_code == 0, out.output
    assert (tmp_path / "sim" / "dataset.json").is_file()
