"""Answers as HTML for the chat page. All document and user text is escaped here.

The chat component renders Markdown and HTML, so document text is escaped twice over: HTML
special characters become entities, and so do the characters Markdown would act on
(links, emphasis, headings, code, tables, LaTeX). A document can then show `<script>` or
`[x](javascript:...)` as text, and never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qa.layout import Place, plain
from qa.text import one_line, reflow, title_of
from qa.types import Answer, Document

# HTML's special characters, and those Markdown (or the page's LaTeX) would act on, become
# numeric entities in one pass; a line break becomes <br>.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!|~$:=@"} | {"\n": "<br>", "\r": ""})


# Below this probability of being right (the confidence, P(right)), an answer is shown as a
# guess, led by "Not sure:", so that nobody takes it for a fact. At 0.5 the reader is more
# likely wrong than right.
LOW_CONFIDENCE = 0.5
NOT_SURE = "Not sure:"


def hedge(confidence: float) -> str:
    """The words put before an answer of this confidence: "Not sure: " below LOW_CONFIDENCE, else ""."""
    return f"{NOT_SURE} " if confidence < LOW_CONFIDENCE else ""


def escape(text: str) -> str:
    """Text shown as itself: HTML-escaped, Markdown-inert, line breaks kept."""
    return text.translate(_ENTITIES)


def highlight(text: str, start: int, end: int, shown: Callable[[str], str] = str) -> str:
    """`text` escaped, with text[start:end] marked.

    Args:
        shown: How each piece is laid out for display (e.g. `one_line`); the offsets are
            into `text` as stored, so the mark stays on the answer's exact words.
    """
    start, end = max(0, start), min(len(text), end)
    before, marked, after = shown(text[:start]).lstrip(), shown(text[start:end]), shown(text[end:]).rstrip()
    return f"{escape(before)}<mark>{escape(marked)}</mark>{escape(after)}"


def render_answer(answer: Answer, asked: str = "") -> str:
    """The reply shown in the chat for an answer.

    Args:
        answer: What the chatbot said.
        asked: The question as the user typed it (to show how it was understood if rewritten).
    """
    parts = []
    if answer.question and asked and answer.question != " ".join(asked.split()):
        parts.append(f'<p class="qa-understood"><em>Understood as: {escape(answer.question)}</em></p>')
    if answer.kind == "summary":
        parts.append(f'<p class="qa-note">{escape(answer.message)}</p>')
        parts += [_summary_sentence(a) for a in answer.alternatives]
        return "\n".join(parts)
    if answer.message and not answer.text:
        cls = "qa-abstain" if answer.kind == "abstain" else "qa-note"
        parts.append(f'<p class="{cls}">{escape(answer.message)}</p>')
        return "\n".join(parts)
    answers = (answer, *answer.alternatives)
    if len(answers) > 1:
        parts.append(f"<p>I found {len(answers)} answers, best first:</p>")
    for i, a in enumerate(answers, 1):
        parts.append(_one_answer(a, i if len(answers) > 1 else 0))
    return "\n".join(parts)


def _one_answer(a: Answer, number: int) -> str:
    q_start = a.start - a.quote_start
    quote = highlight(a.quote, q_start, a.end - a.quote_start, shown_line)
    p_start = a.start - a.passage_start
    passage = highlight(a.passage, p_start, a.end - a.passage_start, shown_passage)
    label = f"{number}. " if number else ""
    unsure = f'<em class="qa-unsure">{escape(hedge(a.score))}</em>' if hedge(a.score) else ""
    return (
        f'<div class="qa-answer"><p>{label}{unsure}<strong>{escape(one_line(a.text).strip())}</strong></p>'
        f"<blockquote>{quote}</blockquote>"
        f'<p class="qa-source"><small>Source: {cite(a.source, a.title)}{where(a)} '
        f"&#183; confidence {a.score:.0%}</small></p>"
        f"<details><summary>Passage</summary><p>{passage}</p></details>{open_link(a)}</div>"
    )


def document_link(doc_id: str, start: int, end: int) -> str:
    """The address of the cited-document view (`qa.app`), scrolled to the answer."""
    from urllib.parse import quote

    return f"/document/{quote(doc_id, safe='')}?start={int(start)}&end={int(end)}#answer"


def open_link(a: Answer) -> str:
    """A link that opens the cited document at the answer, or "" when the answer has no document."""
    if not a.doc_id or a.start < 0:
        return ""
    return f'<p class="qa-open"><small><a href="{document_link(a.doc_id, a.start, a.end)}" target="_blank">Open the document at this answer</a></small></p>'


def _summary_sentence(a: Answer) -> str:
    return (
        f'<div class="qa-answer"><blockquote>{escape(shown_line(a.quote).strip())}</blockquote>'
        f'<p class="qa-source"><small>Source: {cite(a.source, a.title)}{where(a)}</small></p>{open_link(a)}</div>'
    )


def where(a: Answer) -> str:
    """", page 7, under ‘Options’" (escaped), or "" when the answer has no place."""
    place = Place(a.page, a.section, a.line).describe()
    return f", {escape(place)}" if place else ""


def shown_line(text: str) -> str:
    """A quote as shown: on one line, without Markdown markup."""
    return one_line(plain(text))


def shown_passage(text: str) -> str:
    """A passage as shown: wrapped lines joined, paragraphs kept, without Markdown markup."""
    return reflow(plain(text))


def cite(source: str, title: str = "") -> str:
    """A document's file name, with its title after it when it has one."""
    named = f" &#8212; {escape(title)}" if title and title != source else ""
    return f"<code>{escape(source)}</code>{named}"


def render_documents(documents: Sequence[Document]) -> str:
    """The list of indexed documents for the side panel."""
    if not documents:
        return "<p>No documents yet. Upload some below.</p>"
    items = "".join(f"<li>{cite(d.source, title_of(d))}</li>" for d in sorted(documents, key=lambda d: d.source.lower()))
    return f"<p>{len(documents)} document(s):</p><ul>{items}</ul>"


def render_document_page(doc: Document, start: int, end: int) -> str:
    """A whole HTML page showing a document's text (escaped, as plain text) with text[start:end]
    marked and scrolled to; a PDF's pages are separated and numbered."""
    import html as html_lib

    from qa.layout import PAGE_BREAK, PAGED, place_of

    start, end = sorted((max(0, min(start, len(doc.text))), max(0, min(end, len(doc.text)))))
    paged = doc.source.lower().endswith(tuple(PAGED))
    page, body = 1, []
    for text, marked in ((doc.text[:start], False), (doc.text[start:end], True), (doc.text[end:], False)):
        shown = []
        for i, part in enumerate(text.split(PAGE_BREAK) if paged else [text]):
            if i:
                page += 1
                shown.append(f'<hr><span class="page">page {page}</span>')
            shown.append(html_lib.escape(part))
        body.append(f'<mark id="answer">{"".join(shown)}</mark>' if marked else "".join(shown))
    title = html_lib.escape(title_of(doc) or doc.source)
    place = place_of(doc, start).describe()
    at = f" \u00b7 the answer is at {html_lib.escape(place)}" if place else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{title} \u00b7 qa</title><meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#1f2937}"
        "pre{white-space:pre-wrap;font-family:inherit;line-height:1.5}mark{background:#fde68a;padding:0 .15em}"
        ".page{color:#6b7280;font-size:.85em}header small{color:#6b7280}</style></head><body>"
        f"<header><h1>{title}</h1><small>{html_lib.escape(doc.source)}{at}</small></header>"
        f'<pre>{"".join(body)}</pre></body></html>'
    )
