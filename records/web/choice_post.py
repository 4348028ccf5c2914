"""The choices form's POST (the preview's, and a template's edit page) parsed by the CLI's rule:
the widgets' rows become the CLI's items before the typed lines, then options.parse_cli reads both
(records/web/choice_rows.py holds the rows). One parser, so a template and a preview agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict

from records.connectors.base import FieldInfo
from records.copying.options import CopyOptions, parse_cli
from records.web import choice_rows
from records.web.choice_rows import ChoiceRows

FLAGS = ("skip_cadences", "run_workflows", "migration_mode", "no_triggers", "files")  # and engine, below
TEXTS = ("set", "clear", "unique", "lineage")
MAX_LINES_CHARS = 20_000  # each box (the textareas' maxlength says the same)


def left_out(post: QueryDict) -> list[str]:
    """The related objects to leave out: each one the form lists (a hidden "object") whose
    "include" box is not ticked; a listed object with no box at all stays left out."""
    included = set(post.getlist("include"))
    return [o for o in dict.fromkeys(post.getlist("object")) if o and o not in included]


@dataclass(frozen=True)
class ParsedChoices:
    top: dict[str, Any]  # the top record's values
    options: CopyOptions
    rows: ChoiceRows  # the widgets' rows, rendered back as chosen
    texts: dict[str, str]  # the typed lines, each box as sent


def parsed_choices(
    post: QueryDict,
    *,
    top_object: str,
    describe: Callable[[str], list[FieldInfo]],
    exclude: Sequence[str],
    lineage_defaults: dict[str, str],
) -> ParsedChoices:
    """The form's rows, lines and boxes as (top values, CopyOptions); ValidationError in its words."""
    texts = {k: post.get(k, "") for k in TEXTS}
    too_long = [k for k, v in texts.items() if len(v) > MAX_LINES_CHARS]
    if too_long:  # refused, not cut: a cut line would copy something the person didn't write
        raise ValidationError(f"The {too_long[0]} lines are longer than {MAX_LINES_CHARS:,} characters; shorten them.")
    rows = choice_rows.rows_from_post(post)
    widgets = choice_rows.items(rows, top_object=top_object)
    top, options = parse_cli(
        top_object=top_object,
        describe=describe,
        set_values=widgets.set_values + _lines(texts["set"]),
        clear=widgets.clear + _lines(texts["clear"]),
        unique=widgets.unique + _lines(texts["unique"]),
        lineage=widgets.lineage + _lines(texts["lineage"]),
        exclude=exclude,
        lineage_defaults=lineage_defaults,
        web_words=True,
        **{f: f in post for f in FLAGS},
        # The person's own tick, sent by a hidden input while the box is locked (_copy_choices.html).
        engine="engine" in post or "engine_kept" in post,
    )
    return ParsedChoices(top=top, options=options, rows=rows, texts=texts)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]
