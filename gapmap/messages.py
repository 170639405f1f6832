"""Keyed messages: the English sentences a run writes (notes, approximations) with what other languages need.

The pipeline, the layers and the analysis write their notes in English (``summary.json`` records them
as they are); a note a planner reads is a :class:`Message`, which also carries a key and the raw
parameters from which :mod:`gapmap.output.i18n` renders it in French. It lives here, not in
``gapmap.output``, because the layers and the analysis create messages and must not depend on the
output stage.
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """An English sentence (the ``str`` value, unchanged wherever text is expected) with a key and
    the parameters another language renders it from (:func:`gapmap.output.i18n.render`).

    Parameters
    ----------
    text : str
        The English sentence, as summary.json records it.
    key : str
        Key of its templates in :data:`gapmap.output.i18n.MESSAGES_FR`.
    **params
        Raw values (numbers unformatted) the templates format per language.
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, text: str, key: str, **params: Any) -> "Message":
        obj = super().__new__(cls, text)
        obj.key = key
        obj.params = params
        return obj

    def __reduce__(self) -> tuple[Any, tuple[str, str, dict[str, Any]]]:
        # Pickled as its parts (Dask ships results between processes), not as a bare str.
        return (_message, (str(self), self.key, dict(self.params)))


def _message(text: str, key: str, params: dict[str, Any]) -> Message:
    return Message(text, key, **params)
