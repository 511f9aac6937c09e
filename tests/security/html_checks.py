"""What a page must not contain under our CSP: inline scripts, event handlers, style attributes."""

from __future__ import annotations

from html.parser import HTMLParser

EXECUTABLE_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script_open = False
        self._script_body: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): (value or "") for name, value in attrs}
        for name, value in names.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler attribute")
            if name == "style":
                self.problems.append(f"<{tag} style=…> inline style attribute")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.problems.append("<style> element (inline CSS)")
        if tag == "script":
            kind = names.get("type", "").strip().lower()
            if kind in EXECUTABLE_TYPES:
                if "src" not in names:
                    self.problems.append("<script> without src (inline script)")
                self._script_open = True
                self._script_body = []

    def handle_data(self, data: str) -> None:
        if self._script_open:
            self._script_body.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script_open:
            body = "".join(self._script_body).strip()
            if body:
                self.problems.append(f"inline script body: {body[:60]!r}")
            self._script_open = False


def csp_problems(html: str) -> list[str]:
    """Everything in ``html`` that a strict CSP would block or that shows unescaped markup."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems
