"""HTML mail bodies as safe plain text: what a reader sees, with nothing that could execute."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

# Content of these elements is never shown to a reader of the mail.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "math", "object", "xml"})
# Elements that end a paragraph: a blank line before and after.
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "pre", "table", "blockquote", "hr"})
# Elements that end a line.
_LINE = frozenset(
    {
        "div",
        "li",
        "tr",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "aside",
        "main",
        "address",
        "center",
        "figure",
        "figcaption",
        "form",
        "fieldset",
        "caption",
        "details",
        "summary",
    }
)
# Hostile HTML nests without end; beyond these depths nesting adds nothing a reader could see,
# and unbounded stacks would make the conversion quadratic.
_MAX_NESTING = 256
_MAX_QUOTE_DEPTH = 20
_SHOWN_SCHEMES = ("http://", "https://", "mailto:", "ftp://", "tel:")
_SPACES = re.compile(r"[ \t\n\r\f\v\xa0\u200b\ufeff]+")
_DECLARATION = re.compile(r"<[!?]")
_TAG = re.compile(r"<[^<>]*>")
_STRAY_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


class _Line:
    __slots__ = ("depth", "pre", "text")

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.pre = False
        self.text: list[str] = []


class _TextExtractor(HTMLParser):
    """Collects lines of text; each line remembers its blockquote depth, shown as "> "."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._line = _Line(0)
        self._hidden: list[str] = []
        self._pre = 0
        self._quote = 0
        self._lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self._link: tuple[str, list[str]] | None = None  # the open <a>: href, text seen inside

    # Lines -------------------------------------------------------------------------------

    def _finish_line(self, keep_empty: bool = False) -> None:
        line = self._line
        text = "".join(line.text)
        text = text.rstrip() if line.pre else _SPACES.sub(" ", text).strip()
        if text or keep_empty:
            self.lines.append((line.depth, text))
        self._line = _Line(self._quote)

    def _break(self, blank: bool) -> None:
        self._finish_line()
        if blank and self.lines and self.lines[-1][1]:
            self.lines.append((self._quote, ""))

    def _write(self, text: str) -> None:
        if not self._line.text:
            self._line.depth = self._quote
        self._line.text.append(text)
        if self._link is not None:
            self._link[1].append(text)

    # Parser callbacks ----------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            # An unclosed <head> or <title> must not hide the whole body.
            self._hidden = [name for name in self._hidden if name not in ("head", "title")]
        if tag in _HIDDEN:
            if len(self._hidden) < _MAX_NESTING:
                self._hidden.append(tag)
            return
        if self._hidden:
            return
        if tag == "br":
            self._finish_line(keep_empty=True)
        elif tag in _PARAGRAPH or tag in _LINE:
            self._break(blank=tag in _PARAGRAPH)
        if tag == "blockquote":
            self._quote = min(self._quote + 1, _MAX_QUOTE_DEPTH)
            self._line.depth = self._quote
        elif tag == "pre":
            self._pre += 1
            self._line.pre = True
        elif tag in ("ul", "ol") and len(self._lists) < _MAX_NESTING:
            self._lists.append([int(tag == "ol"), 0])
        elif tag == "li":
            self._write(self._bullet())
        elif tag in ("td", "th"):
            self._write(" ")
        elif tag == "a":
            # Links do not nest: like a browser, a new <a> ends the open one.
            self._close_link()
            self._link = (dict(attrs).get("href") or "", [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            return
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            if tag in self._hidden:
                # Drop everything opened after it too: browsers are as lenient with bad nesting.
                del self._hidden[len(self._hidden) - 1 - self._hidden[::-1].index(tag) :]
            return
        if self._hidden:
            return
        if tag == "a":
            self._close_link()
        elif tag in _PARAGRAPH or tag in _LINE:
            self._break(blank=tag in _PARAGRAPH)
        if tag == "blockquote" and self._quote:
            self._quote -= 1
            self._line.depth = self._quote
        elif tag == "pre" and self._pre:
            self._pre -= 1
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            self._write(_SPACES.sub(" ", data))
            return
        self._line.pre = True
        first, *rest = data.replace("\r\n", "\n").split("\n")
        self._write(first)
        for piece in rest:
            self._finish_line(keep_empty=True)
            self._line.pre = True
            self._write(piece)

    def _close_link(self) -> None:
        if self._link is not None:
            href, seen = self._link
            self._link = None
            self._write(_link_suffix(href, "".join(seen)))

    def _bullet(self) -> str:
        if not self._lists:
            return "- "
        current = self._lists[-1]
        if not current[0]:
            return "- "
        current[1] += 1
        return f"{current[1]}. "

    def text(self) -> str:
        self._finish_line()
        lines = self.lines
        # A blank line belongs to a quote only when the text on both sides of it does.
        next_depth = [0] * len(lines)
        following = 0
        for index in range(len(lines) - 1, -1, -1):
            next_depth[index] = following
            if lines[index][1]:
                following = lines[index][0]
        out: list[str] = []
        blank = True
        previous = 0
        for index, (depth, text) in enumerate(lines):
            if text:
                out.append("> " * depth + text)
                blank, previous = False, depth
            elif not blank:
                out.append("> " * min(previous, next_depth[index], depth))
                blank = True
        return "\n".join(line.rstrip() for line in out).strip("\n")


def _link_suffix(href: str, text: str) -> str:
    href = href.strip()
    if not href.lower().startswith(_SHOWN_SCHEMES):
        return ""  # javascript:, data:, cid:, relative links: nothing a reader can follow

    def bare(value: str) -> str:
        value = value.strip().lower()
        for scheme in _SHOWN_SCHEMES:
            value = value.removeprefix(scheme)
        return value.removeprefix("www.").rstrip("/")

    shown = href[len("mailto:") :] if href.lower().startswith("mailto:") else href
    if not text.strip() or bare(text) in (bare(href), bare(shown)):
        return ""
    return f" ({shown})"


def _without_declarations(html: str) -> str:
    """Comments, <!...> and <?...> removed in one linear pass.

    html.parser rescans unclosed comments (quadratic: minutes for a megabyte of "<!--") and
    raises AssertionError on some "<![" garbage, so these never reach it. Like a browser, an
    unclosed comment hides the rest of the document. Outlook's "<![if ...]>" markers go, the
    text between them stays (it is what non-IE readers see).
    """
    out: list[str] = []
    position = 0
    while True:
        found = _DECLARATION.search(html, position)
        if found is None:
            out.append(html[position:])
            break
        start = found.start()
        out.append(html[position:start])
        if html.startswith("<!--", start):
            end, closer = html.find("-->", start + 4), 3
        else:
            end, closer = html.find(">", start + 2), 1
        if end == -1:
            break
        position = end + closer
    return "".join(out)


def _balanced_quotes(tag: re.Match[str]) -> str:
    text = tag.group()
    for quote in "\"'":
        if text.count(quote) % 2:
            text = text.replace(quote, "")
    return text


def _tamed(html: str) -> str:
    """HTML that html.parser reads in linear time.

    It rescans the rest of the document for every "<" without a ">" and for every tag with an
    unclosed quote (minutes for a megabyte of hostile markup). So: declarations go, a "<" with no
    ">" before the next "<" becomes text, and a tag with an odd number of quotes loses them.
    """
    html = _STRAY_LT.sub("&lt;", _without_declarations(html))
    return _TAG.sub(_balanced_quotes, html)


def html_to_text(html: str) -> str:
    """Plain text a reader would see: scripts and styles dropped, blocks on their own lines,
    blockquotes as "> " lines, links as "text (url)", entities decoded."""
    extractor = _TextExtractor()
    try:
        extractor.feed(_tamed(html))
        extractor.close()
        text = extractor.text()
    except AssertionError:
        # html.parser still asserts on some malformed markup; tags stripped is better than nothing.
        text = "\n".join(" ".join(line.split()) for line in unescape(_TAG.sub(" ", html)).splitlines())
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return _INVISIBLE.sub("", text.replace("\xa0", " "))
