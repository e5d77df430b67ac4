"""Read and write OPML subscription lists.

Readers export their subscriptions as OPML: ``<outline>`` elements with an
``xmlUrl``, nested inside folder outlines. :func:`parse_opml` flattens that
tree into one :class:`OpmlOutline` per feed, keeping the folder path;
:func:`write_opml` writes OPML 2.0 that :func:`parse_opml` reads back unchanged.

    >>> text = write_opml([OpmlOutline("https://example.com/feed", "Ex", folders=("News",))])
    >>> parse_opml(text.encode())[0].folders
    ('News',)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from primenews.errors import ParseError
from primenews.ingest import sniff
from primenews.ingest.sitemaps import local_name, read_xml

# characters XML 1.0 cannot carry at all; lxml refuses them rather than escaping
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    """One feed of an OPML file.

    ``folders`` is the path of folder outlines around it, outermost first;
    ``category`` joins it with "/" for display.
    """

    xml_url: str
    title: str = ""
    html_url: str = ""
    folders: tuple[str, ...] = ()

    @property
    def category(self) -> str:
        return "/".join(self.folders)


def parse_opml(content: bytes) -> list[OpmlOutline]:
    """The feeds of an OPML document, in document order, each ``xmlUrl`` once.

    Outlines without ``xmlUrl`` are folders: their ``title`` (or ``text``)
    becomes part of the ``folders`` of everything inside them. A feed
    outside any folder that carries a ``category`` attribute
    ("/News/World") takes its first path as folders.

    Raises:
        ParseError: the body is empty, not OPML, or declares unsafe entities.
    """
    if not content.strip():
        raise ParseError("opml: empty document")
    root_name = sniff.root_element(content)
    if root_name != "opml":
        what = f"root element <{root_name}>" if root_name else "no XML root element"
        raise ParseError(f"opml: not an OPML document ({what})")
    root, _ = read_xml(content, "opml")
    body = next((child for child in root if local_name(child) == "body"), root)
    unique: dict[str, OpmlOutline] = {}
    for outline in _walk(body, ()):
        unique.setdefault(outline.xml_url, outline)
    return list(unique.values())


def _walk(node: etree._Element, folders: tuple[str, ...]) -> Iterator[OpmlOutline]:
    """Feeds under ``node``, depth first (lxml caps nesting at 256, so recursion is safe)."""
    for child in node:
        if local_name(child) != "outline":
            continue
        try:
            attrs = {str(key).lower(): str(value).strip() for key, value in child.attrib.items()}
        except UnicodeDecodeError:  # undecodable bytes kept by recover mode: skip this outline
            continue
        title = " ".join((attrs.get("title") or attrs.get("text", "")).split())
        xml_url = attrs.get("xmlurl", "")
        if xml_url:
            yield OpmlOutline(
                xml_url=xml_url,
                title=title,
                html_url=attrs.get("htmlurl", ""),
                folders=folders or _category_path(attrs.get("category", "")),
            )
        yield from _walk(child, folders + (title,) if not xml_url and title else folders)


def _category_path(category: str) -> tuple[str, ...]:
    """The first "/a/b" path of an OPML ``category`` attribute, as ("a", "b")."""
    first = category.split(",", 1)[0]
    return tuple(part.strip() for part in first.split("/") if part.strip())


def write_opml(
    outlines: Iterable[OpmlOutline], title: str = "Prime News", created: datetime | None = None
) -> str:
    """An OPML 2.0 document listing the feeds, grouped into nested folder outlines.

    Args:
        outlines: the feeds, in the order they should appear.
        title: the document's ``<head><title>``.
        created: written as ``dateCreated`` when given (no clock is read here).

    Returns:
        The document as text, with its XML declaration. Feeds of one folder
        are written together, so parsing it back gives them folder by folder;
        an empty title is written as the feed URL (OPML requires ``text``).
    """
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_text(title)
    if created is not None:
        etree.SubElement(head, "dateCreated").text = format_datetime(created)
    body = etree.SubElement(root, "body")
    folders: dict[tuple[str, ...], etree._Element] = {(): body}
    for outline in outlines:
        parent = _folder(folders, tuple(name for name in outline.folders if name.strip()))
        text = _xml_text(outline.title or outline.xml_url)
        attrs = {"type": "rss", "text": text, "title": text, "xmlUrl": _xml_text(outline.xml_url)}
        if outline.html_url:
            attrs["htmlUrl"] = _xml_text(outline.html_url)
        etree.SubElement(parent, "outline", attrs)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + etree.tostring(root, encoding="unicode", pretty_print=True)


def _folder(
    folders: dict[tuple[str, ...], etree._Element], path: tuple[str, ...]
) -> etree._Element:
    """The folder outline for ``path``, created (with its parents) on first use."""
    if path not in folders:
        name = _xml_text(path[-1])
        folders[path] = etree.SubElement(
            _folder(folders, path[:-1]), "outline", text=name, title=name
        )
    return folders[path]


def _xml_text(value: str) -> str:
    """The value without the control characters XML 1.0 cannot represent."""
    return _NOT_XML.sub("", value)
