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
        f"<details><summary>Passage</summary><p>{passage}</p></details></div>"
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
