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


def test_line_ends_become_unix_and_control_characters_go_but_tabs_and_page_breaks_stay(tmp_path):
    (tmp_path / "w.txt").write_bytes(b"one\r\ntwo\rthree\x07\x1b\x7f\x0b four\tfive\x0csix\n")
    assert load_file(tmp_path / "w.txt").text == "one\ntwo\nthree four\tfive\x0csix\n"


def test_the_size_limit_is_inclusive(tmp_path):
    (tmp_path / "edge.txt").write_bytes(b"x" * 1000)
    assert load_file(tmp_path / "edge.txt", max_bytes=1000).text == "x" * 1000
    (tmp_path / "over.txt").write_bytes(b"x" * 1001)
    with pytest.raises(IngestError, match=r"over.txt: 0.0 MB is over the 0 MB limit"):
        load_file(tmp_path / "over.txt", max_bytes=1000)


def test_the_type_is_known_by_its_extension_in_any_case_and_by_the_shown_name(tmp_path):
    (tmp_path / "NOTES.TXT").write_text("Upper-case extensions are read too.")
    assert load_file(tmp_path / "NOTES.TXT").source == "NOTES.TXT"
    (tmp_path / "upload-1234").write_text("# Plan\n\nAn upload kept under a temporary name.")
    doc = load_file(tmp_path / "upload-1234", name="plan.md")  # the name the user gave decides
    assert doc.source == "plan.md" and doc.title == "Plan"


def test_an_unreadable_file_is_named_with_its_reason(tmp_path):
    with pytest.raises(IngestError, match=r"^gone.txt: cannot read the file \(No such file or directory\)"):
        load_file(tmp_path / "gone.txt")


def test_a_plain_text_gets_its_first_line_as_title_and_a_table_none(tmp_path):
    (tmp_path / "t.txt").write_text("Short\nLee met Xi in Beijing on Tuesday.\nMore text.")
    assert load_file(tmp_path / "t.txt").title == "Lee met Xi in Beijing on Tuesday."
    (tmp_path / "t.csv").write_text("name,city,year,role\nLee,Seoul,2025,president\n")
    assert load_file(tmp_path / "t.csv").title == ""


def test_folders_are_read_in_name_order_with_progress_and_every_refusal_named(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("Bee text here.")
    (folder / "sub" / "a.md").write_text("Sub text here.")
    (folder / "a.txt").write_text("Ay text here.")
    (folder / "empty.txt").write_bytes(b"")
    (folder / ".hidden.png").write_bytes(b"x")  # hidden files are not counted
    (folder / "x.png").write_bytes(b"x")
    (folder / "y.png").write_bytes(b"x")
    (folder / "z.py").write_text("x")
    (folder / "README").write_text("x")
    told = []
    docs, problems = load_paths([folder], progress=lambda what, share: told.append((what, share)))
    assert [d.source for d in docs] == ["a.txt", "b.txt", "a.md"]  # each folder's files sorted, then its folders
    assert [w for w, _ in told] == ["reading a.txt", "reading b.txt", "reading empty.txt", "reading a.md"]
    assert [s for _, s in told] == [0.0, 0.25, 0.5, 0.75]
    assert problems == [
        "4 file(s) in the folder(s) not read, of types qa does not read: 2 .png, 1 (no extension), 1 .py",
        "empty.txt: the file is empty",
    ]


def test_a_file_that_breaks_its_reader_is_refused_and_the_others_still_read(tmp_path, monkeypatch):
    from qa import ingest

    (tmp_path / "a.txt").write_text("Fine text here.")
    (tmp_path / "b.html").write_text("<p>Breaks the reader</p>")

    def broken(raw):
        raise RecursionError("deep markup")

    monkeypatch.setattr(ingest, "html_to_text", broken)
    docs, problems = load_paths([tmp_path / "a.txt", tmp_path / "b.html", tmp_path / "c.txt"])
    assert [d.source for d in docs] == ["a.txt"]
    assert problems == ["b.html: could not be read", f"{tmp_path / 'c.txt'}: no such file or folder"]


@pytest.mark.parametrize("data, text", [
    ("UTF-16 with its mark, as Windows Notepad saves: Lee met Xi.".encode("utf-16"),
     "UTF-16 with its mark, as Windows Notepad saves: Lee met Xi."),
    (b"\xfe\xff" + "UTF-16 big-endian: Séoul.".encode("utf-16-be"), "UTF-16 big-endian: Séoul."),
    ("Plain UTF-8: Pyongyang, Séoul, 北京.".encode("utf-8"), "Plain UTF-8: Pyongyang, Séoul, 北京."),
])
def test_unicode_files_are_decoded_whole(tmp_path, data, text):
    (tmp_path / "u.txt").write_bytes(data)
    assert load_file(tmp_path / "u.txt").text == text


def test_a_file_of_control_characters_is_refused_as_binary_whatever_its_encoding(tmp_path):
    (tmp_path / "c.txt").write_bytes(b"\x01\x02\x03\x04 some words \x05\x06\x07\x08\x0e\x0f" * 50 + b"\xff")
    with pytest.raises(IngestError, match="binary"):
        load_file(tmp_path / "c.txt")


def test_html_headings_title_and_hidden_parts():
    page = ("<html><head><title> The  &amp; Title </title><style>p{}</style></head><body>"
            "<h1>Talks</h1><p>Lee met Xi.</p><h2>Trade</h2><ul><li>one</li><li>two</li></ul>"
            "<script>var x = '<p>no</p>';</script><noscript>Enable JS</noscript><template><p>hidden</p></template>"
            "<h4>Small</h4><div>last<br>line</div></body></html>")
    text, title = html_to_text(page)
    assert title == "The & Title"
    assert text.split("\n") == ["# Talks", "Lee met Xi.", "## Trade", "one", "two", "#### Small", "last", "line"]


def test_an_html_page_without_a_title_is_named_by_its_first_main_heading():
    assert html_to_text("<h4>Minor</h4><h2>Main  heading</h2><h1>Later</h1><p>x</p>")[1] == "Main heading"
    assert html_to_text("<p>No heading at all.</p>")[1] == ""


def test_an_empty_heading_leaves_no_bare_marker_line():
    text, _ = html_to_text("<h2></h2><p>Body text.</p><h3> </h3>")
    assert text == "Body text."


# What the mutation run of qa/ingest.py showed untested (python scripts/mutation_report.py --run ingest).

def test_a_shown_name_without_an_extension_takes_the_files_own_whatever_its_case(tmp_path):
    (tmp_path / "NOTES.TXT").write_text("Words in a shouting file name.")
    assert load_file(tmp_path / "NOTES.TXT", name="notes").text == "Words in a shouting file name."
    (tmp_path / "PAGE.HTM").write_text("<p>Seals &amp; lions</p>")
    assert load_file(tmp_path / "PAGE.HTM").text == "Seals & lions"


def test_the_size_limit_message_gives_both_sizes_in_megabytes(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"w" * 1_050_000)
    with pytest.raises(IngestError) as err:
        load_file(tmp_path / "big.txt", max_bytes=1_000_000)
    assert str(err.value) == "big.txt: 1.1 MB is over the 1 MB limit"


def test_a_binary_file_is_refused_under_its_own_name(tmp_path):
    (tmp_path / "tmp9").write_bytes(bytes(range(256)) * 20)
    with pytest.raises(IngestError, match=r"^report\.txt: looks like a binary file"):
        load_file(tmp_path / "tmp9", name="report.txt")


def test_htm_pages_are_read_as_html(tmp_path):
    (tmp_path / "p.htm").write_text("<html><head><title>Seals</title></head><body><p>Seals &amp; lions</p></body></html>")
    doc = load_file(tmp_path / "p.htm")
    assert (doc.text, doc.title) == ("Seals & lions", "Seals")


def test_a_markdown_heading_titles_md_and_markdown_files_but_not_plain_text(tmp_path):
    body = "# Otters\n\nOtters hold hands while they sleep."
    for name in ("a.md", "b.markdown", "c.txt"):
        (tmp_path / name).write_text(body)
    assert load_file(tmp_path / "a.md").title == "Otters"
    assert load_file(tmp_path / "b.markdown").title == "Otters"
    assert load_file(tmp_path / "c.txt").title == "Otters hold hands while they sleep."  # first line of four words


def test_an_unknown_type_is_told_what_is_read_and_a_near_miss_what_to_do(tmp_path):
    from qa.ingest import SUPPORTED

    (tmp_path / "x.xyz").write_text("words")
    with pytest.raises(IngestError) as err:
        load_file(tmp_path / "x.xyz")
    assert str(err.value) == f"x.xyz: .xyz files are not read; qa reads {', '.join(SUPPORTED)}"
    assert ", .md, " in str(err.value)
    (tmp_path / "README").write_text("words")
    with pytest.raises(IngestError) as err:
        load_file(tmp_path / "README")
    assert str(err.value).startswith("README: a file without an extension files are not read; qa reads .txt, .md")
    (tmp_path / "old.doc").write_text("words")
    with pytest.raises(IngestError, match=r"^old\.doc: \.doc files are not read; save it as \.docx"):
        load_file(tmp_path / "old.doc")


def test_a_file_of_another_type_in_a_folder_does_not_hide_the_files_after_it(tmp_path):
    (tmp_path / "a.xyz").write_text("x")
    (tmp_path / "b.txt").write_text("Bee text here.")
    docs, problems = load_paths([tmp_path])
    assert [d.source for d in docs] == ["b.txt"]
    assert problems == ["1 file(s) in the folder(s) not read, of types qa does not read: 1 .xyz"]


def test_other_types_as_common_are_listed_by_name(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "z.zzz").write_text("x")
    (tmp_path / "two" / "y.yyy").write_text("x")
    _, problems = load_paths([tmp_path / "one", tmp_path / "two"])
    assert problems == ["2 file(s) in the folder(s) not read, of types qa does not read: 1 .yyy, 1 .zzz"]


def test_a_missing_file_does_not_stop_the_files_after_it(tmp_path):
    (tmp_path / "b.txt").write_text("Bee text here.")
    docs, problems = load_paths([tmp_path / "missing.txt", tmp_path / "b.txt"])
    assert [d.source for d in docs] == ["b.txt"]
    assert problems == [f"{tmp_path / 'missing.txt'}: no such file or folder"]


def test_a_files_own_stages_are_told_at_its_share_of_the_whole(tmp_path, monkeypatch):
    from qa import ingest

    def pdf_with_stages(data, source, progress=None):
        progress(f"reading {source} with OCR, page 1 of 1")
        return "Scanned words here.", ""

    monkeypatch.setattr(ingest, "pdf_text", pdf_with_stages)
    for name in ("a.pdf", "b.pdf"):
        (tmp_path / name).write_bytes(b"%PDF-1.4")
    told = []
    load_paths([tmp_path / "a.pdf", tmp_path / "b.pdf"], progress=lambda what, share: told.append((what, share)))
    assert told == [("reading a.pdf", 0.0), ("reading a.pdf with OCR, page 1 of 1", 0.0),
                    ("reading b.pdf", 0.5), ("reading b.pdf with OCR, page 1 of 1", 0.5)]


def test_a_file_that_breaks_its_reader_is_named_in_the_log(tmp_path, monkeypatch, caplog):
    from qa import ingest

    def broken(raw):
        raise RecursionError("deep markup")

    monkeypatch.setattr(ingest, "html_to_text", broken)
    (tmp_path / "b.html").write_text("<p>Breaks the reader</p>")
    with caplog.at_level("ERROR", logger="qa"):
        load_paths([tmp_path / "b.html"])
    assert [r.getMessage() for r in caplog.records] == [f"reading {tmp_path / 'b.html'} failed"]
    assert caplog.records[0].exc_info is not None


@pytest.mark.parametrize("given, shown", [("...secret.txt", "secret.txt"), ("Xmas.txt", "Xmas.txt"), ("notes.txt.", "notes.txt.")])
def test_only_leading_dots_are_taken_from_a_name(given, shown):
    assert safe_name(given) == shown


def test_a_link_out_of_the_folder_does_not_hide_the_files_after_it(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("Not for the page.")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").symlink_to(secret)
    (docs / "b.txt").write_text("Bee text here.")
    found, problems = load_paths([docs])
    assert [d.source for d in found] == ["b.txt"]
    assert problems == [f"{docs / 'a.txt'}: a link to a file outside {docs}, not followed"]
