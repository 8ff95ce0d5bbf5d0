"""Reading files: every supported type, and a clear refusal for everything else."""

import pytest

from qa.ingest import IngestError, html_to_text, load_file, load_paths, safe_name


def make_pdf(path, text: str | None):
    """A one-page PDF, with a text layer only when `text` is given."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    if text is not None:
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"), NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    with open(path, "wb") as f:
        writer.write(f)


def test_text_markdown_html_and_pdf(tmp_path):
    (tmp_path / "a.txt").write_text("Plain text about otters.")
    (tmp_path / "b.md").write_text("# Otters\n\nOtters *hold hands* while sleeping.")
    (tmp_path / "c.html").write_text("<html><head><title>Seals</title><script>alert(1)</script></head>"
                                     "<body><p>Seals &amp; sea lions</p><style>p{}</style><div>differ.</div></body></html>")
    make_pdf(tmp_path / "d.pdf", "Walruses have tusks.")
    docs, problems = load_paths([tmp_path])
    assert problems == []
    by = {d.source: d for d in docs}
    assert by["a.txt"].text == "Plain text about otters."
    assert by["b.md"].title == "Otters"
    assert by["c.html"].text == "Seals & sea lions\ndiffer." and by["c.html"].title == "Seals"
    assert "alert" not in by["c.html"].text
    assert "Walruses have tusks." in by["d.pdf"].text


def test_same_content_has_same_id(tmp_path):
    (tmp_path / "a.txt").write_text("Same words.")
    (tmp_path / "b.txt").write_text("Same words.")
    assert load_file(tmp_path / "a.txt").id == load_file(tmp_path / "b.txt").id


def test_non_utf8_text_is_decoded(tmp_path):
    text = "Le café était très réputé à Genève, où l'on parlait français depuis des siècles. " * 3
    (tmp_path / "latin1.txt").write_bytes(text.encode("cp1252"))
    assert load_file(tmp_path / "latin1.txt").text.startswith("Le café était")
    (tmp_path / "bom.txt").write_bytes("\ufeffWith a byte order mark.".encode("utf-8"))
    assert load_file(tmp_path / "bom.txt").text == "With a byte order mark."


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", b"", "empty"),
    ("binary.txt", bytes(range(256)) * 20, "binary"),
    ("blank.txt", b"   \n\n  ", "no text"),
    ("image.png", b"\x89PNG....", ".png files are not read"),
    ("noext", b"hello", "a file without an extension"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF"),
])
def test_bad_files_are_refused_with_a_message(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(IngestError, match=message):
        load_file(tmp_path / name)


def test_pdf_without_text_layer(tmp_path):
    make_pdf(tmp_path / "scan.pdf", None)  # a blank page: no text layer, no image to read
    with pytest.raises(IngestError, match="no text found in the PDF, even with OCR"):
        load_file(tmp_path / "scan.pdf")


def test_size_limit(tmp_path):
    (tmp_path / "big.txt").write_text("word " * 1000)
    with pytest.raises(IngestError, match="over the"):
        load_file(tmp_path / "big.txt", max_bytes=1000)


@pytest.mark.parametrize("given, shown", [("../../x.txt", "x.txt"), ("..\\..\\evil.md", "evil.md"), ("/etc/passwd.txt", "passwd.txt"), ("..", "document"), ("a\x00b.txt", "ab.txt")])
def test_path_traversal_names_are_reduced_to_a_file_name(given, shown):
    assert safe_name(given) == shown


def test_upload_name_decides_the_shown_source(tmp_path):
    (tmp_path / "tmp123").write_text("Uploaded words.")
    doc = load_file(tmp_path / "tmp123", name="../../notes.txt")
    assert doc.source == "notes.txt"


def test_hostile_html_keeps_text_not_markup():
    text, _ = html_to_text('<p>Hi <img src=x onerror="alert(1)"> there</p><script>steal()</script><a href="javascript:alert(2)">link</a>')
    assert text == "Hi there\nlink"
    assert "steal" not in text and "onerror" not in text and "javascript" not in text


def test_missing_paths_are_reported(tmp_path):
    docs, problems = load_paths([tmp_path / "nope.txt"])
    assert docs == [] and "no such file" in problems[0]


def test_every_document_gets_a_title(tmp_path):
    from tests.conftest import SEED

    (tmp_path / "t.html").write_text("<html><head><title> Sea &amp; lions </title></head><body><h1>Other</h1><p>Text.</p></body></html>")
    (tmp_path / "h.html").write_text("<html><body><h2>Walrus   facts</h2><p>Walruses have tusks.</p></body></html>")
    (tmp_path / "m.md").write_text("# Otters\n\nOtters hold hands.")
    (tmp_path / "p.txt").write_text("Share and Follow\n\nThe otter is a carnivorous mammal of the subfamily Lutrinae, found on every continent.")
    make_pdf(tmp_path / "d.pdf", "Walruses have long white tusks.")
    titles = {d.source: d.title for d in load_paths([tmp_path])[0]}
    assert titles["t.html"] == "Sea & lions"             # <title>
    assert titles["h.html"] == "Walrus facts"            # the first heading
    assert titles["m.md"] == "Otters"                    # the first Markdown heading
    assert titles["d.pdf"] == "Walruses have long white tusks."  # no metadata: the first line
    # A plain text: its first line of four words or more, shortened at a word.
    assert titles["p.txt"] == "The otter is a carnivorous mammal of the subfamily Lutrinae, found on every\u2026"
    assert load_file(SEED).title.startswith("On Wednesday, South Korean President Lee Jae Myung")


def test_html_source_line_breaks_are_spaces_so_sentences_stay_whole():
    text, _ = html_to_text("<p>The bridge was\n   opened in\n1931.</p><p>Second</p><pre>a\nb</pre>")
    assert text == "The bridge was opened in 1931.\nSecond\na\nb"
