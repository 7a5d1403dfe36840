"""Load the bundled lexicon JSON files (`lexicons/**/*.json`) into a `LexiconCatalog`.

The domain parses documents but does no I/O; this adapter reads the files. The default
catalog is built once per process (parsing 300+ files takes a noticeable fraction of a
second) and is checked closed: every ref must resolve, so a broken bundle fails at startup.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from domain.lexicon import InvalidLexicon, LexiconCatalog, parse_lexicon_text

LEXICON_ROOT = Path(__file__).resolve().parents[1] / "lexicons"


def load_catalog(root: Path = LEXICON_ROOT, *, check_refs: bool = True) -> LexiconCatalog:
    """Parse every `*.json` under `root` (sorted, for deterministic errors) into a catalog."""
    catalog = LexiconCatalog()
    paths = sorted(root.rglob("*.json"))
    if not paths:
        raise InvalidLexicon(f"no lexicon files under {root}")
    for path in paths:
        try:
            catalog.add(parse_lexicon_text(path.read_bytes()))
        except InvalidLexicon as exc:
            raise InvalidLexicon(f"{path.relative_to(root)}: {exc}") from exc
    if check_refs:
        catalog.check_refs()
    return catalog


@cache
def default_catalog() -> LexiconCatalog:
    """The bundled com.atproto, app.bsky and chat.bsky lexicons, loaded once per process."""
    return load_catalog()
