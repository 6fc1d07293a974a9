"""MkDocs hooks: the README and the model cards appear in the site, never copied by hand.

``<!-- readme -->`` is replaced by README.md (its ``docs/`` links made site-relative);
``<!-- model-cards -->`` by every ``pretrained/*/MODEL_CARD.md`` (headings moved down one level),
each model's ``samples.gif`` being added to the site as ``models/NAME-samples.gif``.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

MARKER, README_MARKER = "<!-- model-cards -->", "<!-- readme -->"
ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "pretrained"
REPO_FILES = ("pretrained/README.md", "CITATION.cff", "CHANGELOG.md", "LICENSE")


def _models() -> list[Path]:
    return sorted(card.parent for card in PRETRAINED.glob("*/MODEL_CARD.md"))


def on_files(files, config):
    for model in _models():
        gif = model / "samples.gif"
        if gif.is_file():
            files.append(File.generated(config, f"models/{model.name}-samples.gif", abs_src_path=str(gif)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs hook signature)
    if README_MARKER in markdown:
        readme = (ROOT / "README.md").read_text().replace("](docs/", "](")
        for outside in REPO_FILES:  # files of the repository that the site does not hold
            readme = readme.replace(f"]({outside}", f"]({config['repo_url']}/blob/main/{outside}")
        markdown = markdown.replace(README_MARKER, readme.split("\n", 1)[1])  # the page has its own title
    if MARKER not in markdown:
        return markdown
    cards = []
    for model in _models():
        lines = (model / "MODEL_CARD.md").read_text().splitlines()
        text = "\n".join("#" + line if line.startswith("#") else line for line in lines)
        cards.append(text.replace("(samples.gif)", f"(models/{model.name}-samples.gif)"))
    return markdown.replace(MARKER, "\n\n".join(cards) or "_No model is shipped in this checkout._")
