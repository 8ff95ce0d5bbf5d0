"""Office files, e-books and tables: read through their own packages, answered, cited by section."""

from __future__ import annotations

import zipfile

import pytest
from click.testing import CliRunner
from tests.office_files import FACTS, WRITERS, write_all

from qa.cli import cli
from qa.errors import IngestError
from qa.formats import heading, table_lines
from qa.ingest import load_file, load_paths


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_each_format_is_read_with_its_headings_and_rows(tmp_path, name):
    doc = load_file(WRITERS[name](tmp_path / name))
    sentence, _question, words, section = FACTS[name]
    assert words in doc.text
    if sentence:
        assert sentence in doc.text
    if section:
        assert f"# {section}\n" in doc.text  # a heading line, cited as the section


def test_rows_of_a_table_read_as_sentences_under_their_headers(tmp_path):
    assert "Orchard: Wrenfield; Trees: 312; Variety: Cox." in load_file(WRITERS["orchards.xlsx"](tmp_path / "o.xlsx")).text
    assert "Site: Marsh End; Species: Curlew; Count: 57." in load_file(WRITERS["birds.csv"](tmp_path / "b.csv")).text
    tsv = tmp_path / "t.tsv"
    tsv.write_text("Name\tRole\nAda\tCaptain\n")
    assert "Name: Ada; Role: Captain." in load_file(tsv).text


def test_titles_come_from_the_files_properties_or_first_heading(tmp_path):
    assert load_file(WRITERS["ferries.docx"](tmp_path / "f.docx")).title == "Harbour handbook"
    assert load_file(WRITERS["voyage.epub"](tmp_path / "v.epub")).title == "The Voyage of the Saltwren"
    assert load_file(WRITERS["choir.odt"](tmp_path / "c.odt")).title == "Village societies"
    assert load_file(WRITERS["birds.csv"](tmp_path / "b.csv")).title == ""  # a row is no title


def test_the_epub_table_of_contents_is_not_read_as_text(tmp_path):
    text = load_file(WRITERS["voyage.epub"](tmp_path / "v.epub")).text
    assert text.count("Chapter Two") == 1


def test_an_epub_without_a_table_of_contents_is_read(tmp_path):
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("qa-test-plain")
    book.set_title("Plain Book")
    book.set_language("en")
    chapters = []
    for i, words in enumerate(["The ferry leaves at dawn.", "The ferry returns at dusk."], 1):
        ch = epub.EpubHtml(title=f"C{i}", file_name=f"c{i}.xhtml", lang="en")
        ch.content = f"<html><body><p>{words}</p></body></html>"
        book.add_item(ch)
        chapters.append(ch)
    book.spine = chapters[::-1]  # reading order is the spine's, not the files'
    epub.write_epub(str(tmp_path / "plain.epub"), book)
    doc = load_file(tmp_path / "plain.epub")
    assert doc.title == "Plain Book"
    assert doc.text.index("returns at dusk") < doc.text.index("leaves at dawn")


def _hand_epub(path, opf: str, files: dict[str, str]) -> None:
    container = ('<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
                 '<rootfiles><rootfile full-path="OPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
        z.writestr("META-INF/container.xml", container)
        if opf:
            z.writestr("OPS/book.opf", opf)
        for name, body in files.items():
            z.writestr(name, body)


def test_an_epub_whose_spine_names_a_missing_table_of_contents_is_read_from_its_package(tmp_path):
    opf = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
           '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title> Tide Tables </dc:title></metadata>'
           '<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
           '<item id="a" href="part%20one.xhtml" media-type="application/xhtml+xml"/>'
           '<item id="img" href="cover.png" media-type="image/png"/>'
           '<item id="b" href="text/two.xhtml" media-type="application/xhtml+xml"/></manifest>'
           '<spine toc="ncx"><itemref idref="nav"/><itemref idref="img"/><itemref idref="b"/><itemref idref="gone"/>'
           '<itemref idref="a"/></spine></package>')
    _hand_epub(tmp_path / "t.epub", opf, {
        "OPS/nav.xhtml": "<html><body><nav><ol><li>Contents list</li></ol></nav></body></html>",
        "OPS/part one.xhtml": "<html><body><h1>Spring</h1><p>High water at noon.</p></body></html>",
        "OPS/text/two.xhtml": "<html><body><p>Low water at six &amp; seven.</p></body></html>",
        "OPS/cover.png": "not text",
    })
    doc = load_file(tmp_path / "t.epub")
    assert doc.title == "Tide Tables"
    assert "Contents list" not in doc.text and "not text" not in doc.text
    assert doc.text.index("Low water at six & seven.") < doc.text.index("High water at noon.")


def test_an_epub_without_its_package_file_is_refused_by_name(tmp_path):
    _hand_epub(tmp_path / "t.epub", "", {})
    with pytest.raises(IngestError, match="t.epub: not a readable EPUB"):
        load_file(tmp_path / "t.epub")


@pytest.mark.parametrize("name,kind", [("x.docx", "Word"), ("x.pptx", "PowerPoint"), ("x.xlsx", "Excel"),
                                       ("x.odt", "OpenDocument"), ("x.epub", "EPUB")])
def test_a_damaged_office_file_is_refused_by_name(tmp_path, name, kind):
    bad = tmp_path / name
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("hello.txt", "not what the format holds")
    with pytest.raises(IngestError, match=f"{name}: not a readable {kind}") as err:
        load_file(bad)
    reason = str(err.value).rsplit(" file (", 1)[1]
    assert reason.endswith(")") and reason not in ("None)", ")")  # the reader's own reason is given


def test_old_office_formats_say_what_to_do(tmp_path):
    old = tmp_path / "report.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0 old word file")
    with pytest.raises(IngestError, match=r"report\.doc: \.doc files are not read; save it as \.docx"):
        load_file(old)


def test_a_folder_names_what_it_did_not_read(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Alpha is the first letter.")
    (folder / "photo.png").write_bytes(b"\x89PNG")
    (folder / "b.png").write_bytes(b"\x89PNG")
    (folder / "script.py").write_text("print(1)")
    (folder / ".hidden").write_text("x")
    docs, problems = load_paths([folder])
    assert [d.source for d in docs] == ["a.txt"]
    assert problems == ["3 file(s) in the folder(s) not read, of types qa does not read: 2 .png, 1 .py"]


def test_the_command_line_fails_when_a_named_file_is_refused(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("The harbour opens at dawn.")
    bad = tmp_path / "slides.ppt"
    bad.write_bytes(b"\xd0\xcf\x11\xe0")
    runner = CliRunner()
    index = str(tmp_path / "index")
    result = runner.invoke(cli, ["--index", index, "index", str(good), str(bad)], obj={"parts": _parts()})
    assert result.exit_code == 1
    assert "indexed 1 document(s)" in result.output and "slides.ppt: .ppt files are not read" in result.output
    assert "not indexed:" in result.output and "slides.ppt" in result.output
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "note.md").write_text("# Notes\nThe tide turns at noon.")
    (folder / "image.png").write_bytes(b"\x89PNG")
    result = runner.invoke(cli, ["--index", index, "index", str(folder)], obj={"parts": _parts()})
    assert result.exit_code == 0, result.output  # a folder's other files are summed up, not an error
    assert "1 file(s) in the folder(s) not read, of types qa does not read: 1 .png" in result.output


def _parts():
    from tests.conftest import HashEmbedder

    return {"embedder": HashEmbedder()}


@pytest.fixture(scope="module")
def office_bot(tmp_path_factory, shipped_reader, real_embedder):
    from qa.chatbot import Chatbot
    from qa.config import Settings

    folder = tmp_path_factory.mktemp("office")
    files = write_all(folder / "files")
    bot = Chatbot(Settings(index_dir=str(folder / "index"), seed_dir=str(folder / "no-seeds")), embedder=real_embedder, reader=shipped_reader)
    bot.open()
    report = bot.add_paths(files)
    assert sorted(report.added) == sorted(WRITERS) and not report.problems
    return bot


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_a_question_about_each_format_is_answered_from_it(office_bot, name):
    _sentence, question, words, section = FACTS[name]
    a = office_bot.ask(question)
    assert not a.abstained and a.source == name
    assert words in a.text and words in a.quote  # the quote is the fact's sentence, not a bare heading
    assert a.section == section  # cited as "under 'section'"


# --- table rows as sentences, heading lines ---------------------------------------------------

def test_table_rows_read_as_sentences_under_their_headers():
    rows = [["", None, ""], ["Name", "City", "Year"], ["Lee", "Seoul", 2025.0], ["Xi", "", 1953], [None, "", ""]]
    assert table_lines(rows) == ["Name; City; Year.", "Name: Lee; City: Seoul; Year: 2025.", "Name: Xi; Year: 1953."]


def test_cells_beyond_the_header_are_kept_and_white_space_is_one_space():
    rows = [["Name", "Role"], ["  Kim \n Yo Jong ", "sister", "extra note"], ["Lee", "president."]]
    assert table_lines(rows) == ["Name; Role.", "Name: Kim Yo Jong; Role: sister; extra note.", "Name: Lee; Role: president."]


def test_a_table_without_a_full_header_or_with_one_row_is_read_cell_after_cell():
    assert table_lines([["Name", ""], ["Lee", "Seoul"]]) == ["Name.", "Lee; Seoul."]
    assert table_lines([["Only", "one row?"]]) == ["Only; one row?"]
    assert table_lines([]) == [] and table_lines([[None, ""]]) == []
    assert table_lines([["A", "B"], ["", None]]) == ["A; B."]  # an empty row is no row: one row, cell after cell
    assert table_lines([["A", "B"], [1.5, 2.0]]) == ["A; B.", "A: 1.5; B: 2."]


@pytest.mark.parametrize("level, text, line", [
    (1, "Title", "# Title"), (2, "  Two \n words ", "## Two words"), (7, "Deep", "###### Deep"),
    (0, "Low", "# Low"), (3, "   ", ""),
])
def test_heading_lines(level, text, line):
    assert heading(level, text) == line


# What the mutation run of qa/formats.py showed untested (python scripts/mutation_report.py --run formats).

@pytest.mark.parametrize("name, data, text", [
    # the delimiter is guessed among , ; tab and | only: a colon is part of a cell
    ("colon.csv", b"name:city\nLee:Seoul\nKim:Busan\n", "name:city.\nname:city: Lee:Seoul.\nname:city: Kim:Busan."),
    # when no delimiter can be guessed, a .tsv is split at tabs and anything else at commas
    ("x.tsv", b"name\tcity, country\nLee\n", "name; city, country.\nname: Lee."),
    ("X.TSV", b"name\tcity, country\nLee\n", "name; city, country.\nname: Lee."),
    ("d.csv", b"a\tb,c\nd\n", "a b; c.\na b: d."),
    ("one.csv", b"name\nLee\nKim\n", "name.\nname: Lee.\nname: Kim."),
])
def test_how_a_table_file_is_split_into_cells(name, data, text):
    from qa.formats import csv_text

    assert csv_text(data, name) == (text, "")


def test_a_table_file_that_cannot_be_read_is_refused_by_name():
    from qa.formats import csv_text

    with pytest.raises(IngestError) as err:
        csv_text(b"a,b\n" + b"x" * 200_000 + b",y\n", "big.csv")
    assert str(err.value) == "big.csv: not a readable CSV file (field larger than field limit (131072))"
    with pytest.raises(IngestError, match=r"^bin\.csv: looks like a binary file"):
        csv_text(bytes(range(256)) * 20, "bin.csv")


def _rich_odt(path):
    """A text with a level-2 heading, a span inside a paragraph, a list, a table with a header row group and a cell of two paragraphs."""
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P, List, ListItem, Span
    from odf.table import Table, TableColumn, TableRow, TableCell, TableHeaderRows
    from odf import dc
    doc = OpenDocumentText()
    doc.meta.addElement(dc.Title(text="Choir notes"))
    doc.text.addElement(H(outlinelevel=2, text="Second level"))
    p = P(text="Rehearsals are on "); p.addElement(Span(text="Tuesdays.")); doc.text.addElement(p)
    lst = List(); item = ListItem(); item.addElement(P(text="Bring water.")); lst.addElement(item); doc.text.addElement(lst)
    table = Table(name="Parts"); table.addElement(TableColumn(numbercolumnsrepeated=2))
    head = TableHeaderRows(); row = TableRow()
    for v in ("Part", "Singers"):
        c = TableCell(); c.addElement(P(text=v)); row.addElement(c)
    head.addElement(row); table.addElement(head)
    row = TableRow()
    for v in ("Alto", "12"):
        c = TableCell(); c.addElement(P(text=v)); row.addElement(c)
    table.addElement(row)
    row = TableRow(); c = TableCell(); c.addElement(P(text="Bass")); c.addElement(P(text="voices")); row.addElement(c)
    c = TableCell(); c.addElement(P(text="7")); row.addElement(c); table.addElement(row)
    doc.text.addElement(table)
    doc.text.addElement(H(outlinelevel=3, text="After the table"))
    doc.save(str(path)); return path


def _rich_pptx(path):
    """A deck with a table, a group shape, speaker notes, and a slide without a title."""
    from pptx import Presentation
    from pptx.util import Inches
    deck = Presentation()
    deck.core_properties.title = "Harbour deck"
    s = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    s.shapes.title.text = "Budget"
    rows = s.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    rows.cell(0, 0).text, rows.cell(0, 1).text = "Item", "Cost"
    rows.cell(1, 0).text, rows.cell(1, 1).text = "Lamp", "40"
    group = s.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(4), Inches(3), Inches(1)); box.text_frame.text = "Grouped words."
    s.notes_slide.notes_text_frame.text = "Speak slowly."
    s2 = deck.slides.add_slide(deck.slide_layouts[6])  # blank: no title
    b = s2.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1)); b.text_frame.text = "Second line one"
    b.text_frame.add_paragraph().text = "Second line two"
    deck.save(path); return path


def test_an_opendocument_text_keeps_its_levels_spans_lists_and_tables(tmp_path):
    doc = load_file(_rich_odt(tmp_path / "c.odt"))
    assert doc.title == "Choir notes"
    assert doc.text.split("\n") == [
        "## Second level", "Rehearsals are on Tuesdays.", "Bring water.",
        "Part; Singers.", "Part: Alto; Singers: 12.", "Part: Bass voices; Singers: 7.", "### After the table",
    ]


def test_a_deck_keeps_its_tables_groups_notes_and_untitled_slides(tmp_path):
    doc = load_file(_rich_pptx(tmp_path / "d.pptx"))
    assert doc.title == "Harbour deck"
    assert doc.text.split("\n") == [
        "# Slide 1: Budget", "Item; Cost.", "Item: Lamp; Cost: 40.", "Grouped words.", "Notes: Speak slowly.",
        "# Slide 2", "Second line one", "Second line two",
    ]



def _rich_docx(path, title=""):
    import docx
    d = docx.Document()
    d.core_properties.title = title
    d.add_paragraph("Harbour report", style="Title")
    d.add_paragraph("Ferries", style="Heading 3")
    table = d.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Pier", "Use"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "Pier nine", "Night ferries"
    d.add_paragraph("  After the table.  ")
    d.save(path)
    return path


def _rich_xlsx(path, title=None):
    import openpyxl
    book = openpyxl.Workbook()
    if title:
        book.properties.title = title
    sheet = book.active
    sheet.title = "Orchards"
    sheet.append(["Orchard", "Trees"])
    sheet.append(["Wrenfield", 312])
    sheet["C2"] = "=B2*2"  # a formula never computed: no value saved
    book.create_sheet("Empty")
    book.save(path)
    return path


@pytest.mark.parametrize("title, shown", [("", "Harbour report"), ("Harbour", "Harbour")])
def test_a_word_document_keeps_its_title_style_heading_levels_tables_and_what_follows_them(tmp_path, title, shown):
    doc = load_file(_rich_docx(tmp_path / "a.docx", title))
    assert doc.title == shown  # the file's own title, else its first heading
    assert doc.text.split("\n") == ["# Harbour report", "### Ferries", "Pier; Use.", "Pier: Pier nine; Use: Night ferries.",
                                     "After the table."]


@pytest.mark.parametrize("title, shown", [(None, "Sheet Orchards"), ("Fruit", "Fruit")])
def test_a_workbook_gives_each_sheet_with_rows_a_section_and_no_formulas(tmp_path, title, shown):
    doc = load_file(_rich_xlsx(tmp_path / "c.xlsx", title))
    assert doc.title == shown
    assert doc.text.split("\n") == ["# Sheet Orchards", "Orchard; Trees.", "Wrenfield; 312."]  # the empty sheet: nothing


@pytest.mark.parametrize("page, text, title", [
    ("<svg><style>a</style>Hidden label</svg><p>Shown.</p>", "Shown.", ""),  # hidden parts nest
    ("<pre>a\n b</pre><p>wrapped\nparagraph</p>", "a\nb\nwrapped paragraph", ""),  # only <pre> keeps its line breaks
    ("<pre>a<b>x</b>\n y</pre>", "ax\ny", ""),  # ... to its own end tag
    ("<div>one</div>two <b>bold</b> end", "one\ntwo bold end", ""),  # a block's end breaks the line, inline ones not
    ("<title>Harbour <!-- draft --> report</title><p>x</p>", "x", "Harbour report"),  # a title in pieces
    ("<h1>Main <!-- c --> heading</h1><p>x</p>", "# Main heading\nx", "Main heading"),
])
def test_html_text_and_title(page, text, title):
    from qa.formats import html_to_text

    assert html_to_text(page) == (text, title)


@pytest.mark.parametrize("text, title", [
    ("# X-ray vision\ntext", "X-ray vision"),
    ("#X-ray vision\ntext", "X-ray vision"),
    ("# " + "a" * 120, "a" * 120),
    ("# " + "a" * 121, ""),  # a heading that long is a paragraph, not a title
])
def test_markdown_titles(text, title):
    from qa.formats import markdown_title

    assert markdown_title(text) == title


def test_a_refusal_gives_the_errors_kind_when_it_has_no_words_and_at_most_160_characters():
    from qa.formats import _refuse

    assert str(_refuse("x.docx", "Word (.docx)", KeyError())) == "x.docx: not a readable Word (.docx) file (KeyError)"
    assert str(_refuse("x.docx", "Word (.docx)", ValueError("y" * 200))) == f"x.docx: not a readable Word (.docx) file ({'y' * 160})"


def test_a_pdf_keeps_its_pages_apart_and_its_title(tmp_path):
    from pypdf import PdfWriter
    from tests.office_files import write_pdf

    two = write_pdf(tmp_path / "two.pdf", ["Page one text.", "Page two text."])
    doc = load_file(two)
    assert (doc.text, doc.title) == ("Page one text.\n\f\nPage two text.", "")
    writer = PdfWriter(clone_from=str(two))
    writer.add_metadata({"/Title": "Harbour minutes"})
    writer.write(str(tmp_path / "titled.pdf"))
    assert load_file(tmp_path / "titled.pdf").title == "Harbour minutes"


def test_rows_end_as_sentences_and_blank_lines_are_dropped():
    from qa.formats import _join

    assert table_lines([["Sheet X"]]) == ["Sheet X."]
    assert _join(["a", "   ", "", "b"]) == "a\nb"
