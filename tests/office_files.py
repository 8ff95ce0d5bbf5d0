"""Office files, e-books and tables written by the tests themselves, each holding one fact."""

from __future__ import annotations

import csv
from pathlib import Path

# file name -> (the fact's sentence, a question, words the answer holds, the heading above the fact)
FACTS = {
    "ferries.docx": ("The night ferry to Port Elder leaves at 11:40 from pier nine.",
                     "When does the night ferry to Port Elder leave?", "11:40", "Evening sailings"),
    "budget.pptx": ("The lighthouse restoration will cost 480,000 crowns in total.",
                    "How much will the lighthouse restoration cost?", "480,000 crowns", "Slide 2: Lighthouse"),
    "orchards.xlsx": (None, "How many trees does the Wrenfield orchard have?", "312", "Sheet Orchards"),
    "choir.odt": ("The Halvard choir rehearses every Thursday in the old granary.",
                  "Where does the Halvard choir rehearse?", "old granary", "Rehearsals"),
    "voyage.epub": ("Captain Imre Tolvaj steered the Saltwren through the Narrow Sound in 1887.",
                    "Who steered the Saltwren through the Narrow Sound?", "Imre Tolvaj", "Chapter Two"),
    "birds.csv": (None, "How many curlews were counted at Marsh End?", "57", ""),
}


def write_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = "Harbour handbook"
    d.add_heading("Harbour handbook", 0)
    d.add_paragraph("This handbook lists the harbour's services for visitors.")
    d.add_heading("Morning sailings", 1)
    d.add_paragraph("The first ferry to Kessa leaves at 06:10 every weekday.")
    d.add_heading("Evening sailings", 1)
    d.add_paragraph(FACTS["ferries.docx"][0])
    table = d.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Pier", "Use"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "Pier nine", "Night ferries"
    d.save(path)
    return path


def write_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Harbour works 2027"
    slide.placeholders[1].text = "Three projects are planned for the harbour next year."
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Lighthouse"
    slide.placeholders[1].text = FACTS["budget.pptx"][0]
    box = slide.shapes.add_textbox(Inches(1), Inches(5), Inches(6), Inches(1))
    box.text_frame.text = "Work starts in the spring."
    deck.save(path)
    return path


def write_xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orchards"
    sheet.append(["Orchard", "Trees", "Variety"])
    sheet.append(["Wrenfield", 312, "Cox"])
    sheet.append(["Ashby Hollow", 145, "Bramley"])
    book.create_sheet("Notes").append(["All orchards were counted in March."])
    book.save(path)
    return path


def write_odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Village societies"))
    doc.text.addElement(P(text="The village has several societies that welcome newcomers."))
    doc.text.addElement(H(outlinelevel=2, text="Rehearsals"))
    doc.text.addElement(P(text=FACTS["choir.odt"][0]))
    doc.save(str(path))
    return path


def write_epub(path: Path) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("qa-test-voyage")
    book.set_title("The Voyage of the Saltwren")
    book.set_language("en")
    chapters = []
    for i, (name, body) in enumerate([("Chapter One", "<p>The Saltwren was built in a small yard at Kettle Bay.</p>"),
                                      ("Chapter Two", f"<p>{FACTS['voyage.epub'][0]}</p>")], 1):
        ch = epub.EpubHtml(title=name, file_name=f"ch{i}.xhtml", lang="en")
        ch.content = f"<html><body><h1>{name}</h1>{body}</body></html>"
        book.add_item(ch)
        chapters.append(ch)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    epub.write_epub(str(path), book)
    return path


def write_csv(path: Path) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Site", "Species", "Count"])
        w.writerow(["Marsh End", "Curlew", 57])
        w.writerow(["Marsh End", "Redshank", 23])
        w.writerow(["Saltings", "Curlew", 9])
    return path


WRITERS = {"ferries.docx": write_docx, "budget.pptx": write_pptx, "orchards.xlsx": write_xlsx, "choir.odt": write_odt,
           "voyage.epub": write_epub, "birds.csv": write_csv}


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write(folder / name) for name, write in WRITERS.items()]


def write_pdf(path: Path, pages: list[str | None]) -> Path:
    """A PDF with one page per entry: a line of text, or no text layer at all (None)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    font_ref = writer._add_object(font)
    for text in pages:
        page = writer.add_blank_page(width=400, height=200)
        if text is None:
            continue
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 11 Tf 20 100 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    with open(path, "wb") as f:
        writer.write(f)
    return path


SCANNED = ("The west pier was rebuilt in 1962 after the great storm.", "When was the west pier rebuilt?", "1962")


def write_scan(path: Path, lines: tuple[str, ...] = (SCANNED[0],)) -> Path:
    """A scanned page: an image of printed text in a PDF, with no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1700, 400 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=48)
    for i, line in enumerate(lines):
        draw.text((100, 150 + 90 * i), line, fill=0, font=font)
    page.save(path, "PDF", resolution=200.0)
    return path
