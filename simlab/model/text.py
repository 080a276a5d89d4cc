"""A text in English and Japanese: :class:`Text`, the one bilingual type of simlab.

A hint beside a ``raise`` (``hint=say(en, ja)``), a step's title and why on the
timeline (``text(en, ja)``), a catalogue entry in every language
(``simlab.i18n.both``) and a plugin step's template are all a ``Text``.

It *is* the English string, so ``str(err)``, logs, ``"veth" in hint`` and
string joins read English as before; ``.ja`` is its twin and :meth:`Text.in_`
picks a language.  It also reads like the ``{"en": ..., "ja": ...}`` mapping a
step kept before (``title["en"]``, ``title.get(lang)``, ``keys()``; iterating,
``len`` and the other str methods stay a string's), and
:meth:`Text.as_dict` is that mapping, the form saved timelines and CNI traces
keep on disk.

>>> t = Text("list them with `ip link`", "`ip link` で一覧できます")
>>> t == "list them with `ip link`", t.in_("ja"), t["ja"] == t.ja
(True, '`ip link` で一覧できます', True)
>>> Text("Create namespace {ns}", "名前空間 {ns} を作る").format(ns="red").in_("ja")
'名前空間 red を作る'
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["Text", "say", "shown_language"]

LANGUAGES = ("en", "ja")
#: The language ``str()`` of a model result uses (``print(walk)``); simlab.i18n.set_language
#: keeps it equal to simlab's language (the model imports nothing above it).
_SHOWN = ["en"]


def shown_language(lang: str | None = None) -> str:
    """The language printed results use; with ``lang``, set it first."""
    if lang is not None:
        _SHOWN[0] = lang
    return _SHOWN[0]


class Text(str):
    """English text carrying its Japanese twin (``ja``; empty: the same as English)."""

    ja: str

    def __new__(cls, en: str = "", ja: str = "") -> Text:
        made = super().__new__(cls, en)
        object.__setattr__(made, "ja", str(ja))
        return made

    def __setattr__(self, name, value):  # frozen: a Text is a value
        raise AttributeError(f"Text is immutable (cannot set {name!r})")

    @classmethod
    def of(cls, value: str | Mapping[str, str] | None) -> Text:
        """A Text from a Text, a plain string, or a ``{"en": ..., "ja": ...}`` mapping."""
        if isinstance(value, Text):
            return value
        if isinstance(value, Mapping):
            return cls(value.get("en") or "", value.get("ja") or "")
        return cls(value or "", "")

    @property
    def en(self) -> str:
        return str.__str__(self)

    def in_(self, lang: str) -> str:
        """The text in ``lang`` ("en" or "ja"), English when there is no Japanese."""
        return self.ja if lang == "ja" and self.ja else self.en

    def format(self, *args, **fields) -> Text:  # noqa: A003 (str's own name)
        """Both texts with ``{field}``s filled in."""
        return Text(self.en.format(*args, **fields), self.ja.format(*args, **fields))

    def as_dict(self) -> dict[str, str]:
        """``{"en": ..., "ja": ...}``, the form kept in JSON (timelines, CNI traces)."""
        return {"en": self.en, "ja": self.ja}

    # -- read like the mapping a step's title used to be
    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in LANGUAGES:
                raise KeyError(key)
            return self.in_(key) if key == "ja" else self.en
        return str.__getitem__(self, key)

    def get(self, lang: str, default=None):
        return self[lang] if lang in LANGUAGES else default

    def keys(self):
        return LANGUAGES

    def items(self):
        return [(lang, self[lang]) for lang in LANGUAGES]

    # -- two Texts are equal when both languages are; against a str, English decides
    def __eq__(self, other) -> bool:
        if isinstance(other, Text):
            return self.en == other.en and self.ja == other.ja
        if isinstance(other, Mapping):
            return dict(self.items()) == {k: other.get(k) for k in LANGUAGES}
        return str.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = str.__hash__

    def __reduce__(self):  # pickles (multiprocessing, timelines) keep both texts
        return (Text, (self.en, self.ja))


def say(en: str, ja: str) -> Text:
    """A text in both languages, e.g. ``hint=say(f"... {name!r}", f"... {name!r}")``.

    >>> h = say("list them with `ip link`", "`ip link` で一覧できます")
    >>> h == "list them with `ip link`", h.in_("ja")
    (True, '`ip link` で一覧できます')
    """
    return Text(en, ja)
