"""A batch from an uploaded CSV or TSV file: what spreadsheets export is read, bad files are refused
with a sentence that names what to fix, and good files give exactly their rows."""

import codecs
import io
import tracemalloc

import pytest
from django.utils import translation

from playground.batches import preview, tables
from playground.batches.rows import Defaults
from playground.batches.templates import Template

PRODUCT_SHOT = "A {{product}} on a {{surface}}, soft studio light, {{angle}} view"
ROWS = [
    ("red mug", "oak table", "top"),
    ("glass vase", "marble", "side"),
]
PROMPTS = [
    "A red mug on a oak table, soft studio light, top view",
    "A glass vase on a marble, soft studio light, side view",
]


def csv_text(separator=",", rows=ROWS, header=("product", "surface", "angle")):
    return "\r\n".join(separator.join(cells) for cells in [header, *rows]) + "\r\n"


def batch_from(team, text, encoding="utf-8", template=PRODUCT_SHOT, **defaults):
    data = text if isinstance(text, bytes) else text.encode(encoding)
    return preview.from_upload(team, template, data, Defaults(**defaults))


def prompts(batch):
    return [row.prompt for row in batch.rows]


@pytest.fixture(autouse=True)
def _db(db):
    pass


# -- what spreadsheets export --------------------------------------------------------


def test_a_plain_csv_gives_one_row_per_line(team):
    batch = batch_from(team, csv_text())
    assert batch.problems == [] and batch.notes == []
    assert prompts(batch) == PROMPTS
    assert [row.number for row in batch.rows] == [2, 3]  # as the spreadsheet numbers them
    assert [row.values for row in batch.rows] == [dict(zip(["product", "surface", "angle"], row, strict=True)) for row in ROWS]
    assert batch.ready and batch.total == 2


def test_utf8_with_a_byte_order_mark_reads_the_first_name_right(team):
    batch = batch_from(team, codecs.BOM_UTF8 + csv_text().encode())
    assert batch.problems == []
    assert prompts(batch) == PROMPTS


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_its_byte_order_mark_is_read(team, encoding):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    # Excel's "Unicode text" is UTF-16 with tabs.
    batch = batch_from(team, bom + csv_text("\t", rows=[("컵", "책상", "위")]).encode(encoding))
    assert batch.problems == []
    assert prompts(batch) == ["A 컵 on a 책상, soft studio light, 위 view"]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_found_from_the_names(team, separator):
    batch = batch_from(team, csv_text(separator))
    assert batch.problems == []
    assert prompts(batch) == PROMPTS


def test_a_semicolon_file_with_commas_in_its_cells_keeps_them(team):
    batch = batch_from(team, csv_text(";", rows=[("mug, red", "oak, oiled", "top")]))
    assert prompts(batch) == ["A mug, red on a oak, oiled, soft studio light, top view"]


def test_an_excel_separator_line_is_honoured(team):
    batch = batch_from(team, "sep=;\n" + csv_text(";", rows=[("mug,red", "oak", "top")]))
    assert batch.problems == []
    assert prompts(batch) == ["A mug,red on a oak, soft studio light, top view"]
    assert batch.rows[0].number == 2


def test_a_quoted_cell_with_a_newline_stays_one_cell_of_one_row(team):
    text = 'product,surface,angle\r\n"red mug,\r\nwith a chip",oak,top\r\nvase,marble,side\r\n'
    batch = batch_from(team, text)
    assert batch.problems == []
    assert prompts(batch) == [
        "A red mug,\nwith a chip on a oak, soft studio light, top view",
        "A vase on a marble, soft studio light, side view",
    ]
    assert [row.number for row in batch.rows] == [2, 3]


def test_quoted_quotes_and_surrounding_spaces(team):
    batch = batch_from(team, 'product , surface,angle\n" a ""tall"" vase ",  oak  ,top\n')
    assert prompts(batch) == ['A a "tall" vase on a oak, soft studio light, top view']


def test_empty_rows_are_skipped_and_said_so(team):
    text = "product,surface,angle\n\nred mug,oak table,top\n,,\n  ,  , \nglass vase,marble,side\n\n"
    batch = batch_from(team, text)
    assert batch.problems == []
    assert prompts(batch) == PROMPTS
    assert [row.number for row in batch.rows] == [3, 6]
    assert batch.notes == ["4 empty rows were skipped (rows 2, 4, 5, 7)."]


def test_one_empty_row_is_said_in_the_singular(team):
    batch = batch_from(team, "product,surface,angle\nred mug,oak table,top\n,,\nglass vase,marble,side\n")
    assert batch.notes == ["1 empty row was skipped (row 3)."]
    assert prompts(batch) == PROMPTS


def test_trailing_separators_and_a_blank_named_empty_column_are_ignored(team):
    batch = batch_from(team, "product;surface;angle;;\nred mug;oak table;top;;\nglass vase;marble;side;;;\n")
    assert batch.problems == []
    assert prompts(batch) == PROMPTS
    assert batch.ready


def test_columns_in_another_order_and_any_case_for_the_optional_ones(team):
    text = "Size,angle,N,surface,product\n3:2,top,2,oak table,red mug\n"
    batch = batch_from(team, text)
    assert batch.problems == []
    row = batch.rows[0]
    assert (row.prompt, row.size, row.n) == (PROMPTS[0], "3:2", 2)


def test_names_differing_only_in_case_fill_their_variables(team):
    batch = batch_from(team, csv_text(header=("Product", "SURFACE", "Angle")))
    assert batch.problems == []
    assert prompts(batch) == PROMPTS


def test_a_german_excel_csv_utf8_export_is_read(team):
    """Excel's "CSV UTF-8" in a German locale: a byte order mark, semicolons, CRLF, quotes where needed."""
    text = 'Product;Surface;Angle\r\n"mug; red";Eiche;oben\r\n"Vase ""Ida""";Marmor;seitlich\r\n;;\r\n'
    batch = batch_from(team, codecs.BOM_UTF8 + text.encode())
    assert batch.problems == []
    assert prompts(batch) == [
        "A mug; red on a Eiche, soft studio light, oben view",
        'A Vase "Ida" on a Marmor, soft studio light, seitlich view',
    ]
    assert batch.notes == ["1 empty row was skipped (row 4)."]


def test_old_mac_line_ends_and_blank_lines_above_the_names_are_read(team):
    batch = batch_from(team, "\r\rproduct;surface;angle\rred mug;oak table;top\rglass vase;marble;side\r")
    assert batch.problems == []
    assert prompts(batch) == PROMPTS
    assert [row.number for row in batch.rows] == [4, 5]


# -- files refused as a whole --------------------------------------------------------


def test_a_missing_variable_column_is_named_with_the_columns_there_are(team):
    batch = batch_from(team, csv_text(header=("product", "angle"), rows=[("mug", "top")]))
    assert batch.rows == []
    assert batch.problems == [
        "There is no column “surface” for {{surface}}. The file's columns are: product, angle."
    ]


def test_unknown_names_are_listed_as_the_file_separates_them(team):
    batch = batch_from(team, "Produkt;Oberfläche;Winkel\nTasse;Eiche;oben\n")
    assert batch.problems[0] == (
        "There is no column “product” for {{product}}. The file's columns are: Produkt, Oberfläche, Winkel."
    )
    assert len(batch.problems) == 6  # three variables missing, three columns unknown


def test_an_extra_column_is_named(team):
    batch = batch_from(team, csv_text(header=("product", "surface", "angle", "colour"), rows=[("a", "b", "c", "d")]))
    assert batch.rows == []
    assert batch.problems == [
        "The column “colour” is not a variable of the template: remove the column, or use {{colour}} in the template."
    ]


def test_a_column_named_twice_is_refused(team):
    batch = batch_from(team, csv_text(header=("product", "surface", "angle", "product"), rows=[("a", "b", "c", "d")]))
    assert batch.problems == ["The column “product” appears twice in the first row."]


def test_a_column_with_values_but_no_name_is_refused(team):
    batch = batch_from(team, "product,surface,angle,\nmug,oak,top,red\n")
    assert batch.problems == ["Column 4 has values but no name in the first row: name it, or remove it."]


@pytest.mark.parametrize("text", ["", "\n\n", ",,\n , ,\n"])
def test_an_empty_file_says_what_it_should_hold(team, text):
    batch = batch_from(team, text)
    assert batch.problems == [
        "The file is empty. Its first row names the variables; each row after it makes one prompt."
    ]


def test_names_without_rows_are_refused(team):
    batch = batch_from(team, "product,surface,angle\n\n,,\n")
    assert batch.problems == ["The file has no rows under the names in its first row."]


def test_more_rows_than_the_limit_are_refused_with_the_numbers(team, settings):
    settings.BATCH_MAX_ROWS = 500
    rows = [(f"mug {number}", "oak", "top") for number in range(501)]
    batch = batch_from(team, csv_text(rows=rows))
    assert batch.rows == []
    assert batch.total == 501
    assert batch.problems == ["This makes 501 prompts; a batch takes at most 500. Use fewer values or rows."]


def test_as_many_rows_as_the_limit_are_taken(team, settings):
    settings.BATCH_MAX_ROWS = 3
    rows = [(f"mug {number}", "oak", "top") for number in range(3)]
    batch = batch_from(team, csv_text(rows=rows) + ",,\n\n")
    assert batch.problems == []
    assert len(batch.rows) == 3


@pytest.mark.parametrize(
    "data",
    [
        "product,surface,angle\ncafé,oak,top\n".encode("cp1252"),  # a legacy code page
        csv_text().encode("utf-16-le"),  # UTF-16 without its mark
        csv_text().encode("utf-32"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_a_file_that_is_not_utf8_or_utf16_text_says_how_to_save_it(team, data):
    batch = batch_from(team, data)
    assert batch.problems == [
        "The file is not UTF-8 or UTF-16 text. In your spreadsheet, save it as “CSV UTF-8” "
        "(or “Unicode text”) and upload that."
    ]


def test_an_unclosed_quote_names_the_line_where_the_cell_starts(team):
    batch = batch_from(team, 'product,surface,angle\nmug,oak,top\n"vase,marble,side\nbowl,slate,top\n')
    assert batch.problems == [
        "Line 3 of the file cannot be read: a quoted cell must end with a quote, "
        "followed by a separator or the end of the line."
    ]


def test_a_file_over_the_size_limit_is_refused_unread(team):
    data = b"product,surface,angle\n" + b"x" * tables.MAX_FILE_BYTES
    batch = batch_from(team, data)
    assert batch.problems == ["The file is larger than 5 MB, the most a batch file can be."]


def test_an_open_file_is_read_no_further_than_the_limit(team):
    class Endless:
        asked = None

        def read(self, size):
            self.asked = size
            return b"x" * size

    endless = Endless()
    batch = preview.from_upload(team, PRODUCT_SHOT, endless)
    assert endless.asked == tables.MAX_FILE_BYTES + 1
    assert batch.problems == ["The file is larger than 5 MB, the most a batch file can be."]


def test_an_open_file_is_read_like_its_bytes(team):
    with io.BytesIO(csv_text().encode()) as opened:
        batch = preview.from_upload(team, PRODUCT_SHOT, opened)
    assert prompts(batch) == PROMPTS


def test_an_unclosed_quote_after_an_excel_separator_line_names_the_files_own_line(team):
    batch = batch_from(team, 'sep=,\nproduct,surface,angle\n"vase,marble,side\n')
    assert batch.problems[0].startswith("Line 3 of the file cannot be read")


def test_a_template_without_variables_is_refused_before_the_file_is_read(team):
    batch = batch_from(team, b"\x00\x01", template="A red mug")
    assert batch.problems == [
        "The template has no variables: write each one in double braces, such as {{product}}."
    ]


def test_the_refusals_are_in_the_viewers_language(team):
    missing_column = csv_text(header=("product", "angle"), rows=[("mug", "top")])
    with translation.override("ko"):
        assert batch_from(team, missing_column).problems == [
            "{{surface}}에 쓸 “surface” 열이 없습니다. 파일에 있는 열: product, angle."
        ]
        assert batch_from(team, "product,surface,angle\nmug,oak,top\n,,\n").notes == [
            "빈 행 1개를 건너뛰었습니다(3행)."
        ]
    with translation.override("zh-hans"):
        assert batch_from(team, "café".encode("cp1252")).problems == [
            "该文件不是 UTF-8 或 UTF-16 文本。请在电子表格中另存为“CSV UTF-8”（或“Unicode 文本”）后上传。"
        ]


# -- files built to be costly ----------------------------------------------------------


def test_a_first_row_of_forty_thousand_columns_is_refused_by_its_count(team):
    header = "product," + ",".join(f"c{number}" for number in range(40_000))
    batch = batch_from(team, header + "\nmug\n")
    assert batch.rows == []
    assert batch.problems == [
        "The first row has 40,001 columns; a batch file has at most 50: one for each variable, "
        "and size, n and reference if you use them."
    ]


def test_a_message_lists_the_first_ten_column_names_and_counts_the_others(team):
    header = ("product", *(f"c{number}" for number in range(25)))
    batch = batch_from(team, csv_text(header=header, rows=[("mug",) + ("x",) * 25]))
    assert batch.problems[0] == (
        "There is no column “surface” for {{surface}}. "
        "The file's columns are: product, c0, c1, c2, c3, c4, c5, c6, c7, c8 and 16 more."
    )


def test_a_long_column_name_is_shortened_in_a_message(team):
    batch = batch_from(team, csv_text(header=("product", "surface", "angle", "x" * 5000), rows=[("a", "b", "c", "d")]))
    assert batch.problems == [
        f"The column “{'x' * 60}…” is not a variable of the template: remove the column, "
        f"or use {{{{{'x' * 60}…}}}} in the template."
    ]


def peak_memory_of(read):
    tracemalloc.start()
    try:
        found = read()
        return found, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("line", ["\n", ",\n", " , \n"])
def test_blank_lines_by_the_hundred_thousand_are_counted_not_kept(team, line):
    data = ("product\n" + line * 200_000).encode()
    source, peak = peak_memory_of(lambda: tables.read(Template("A {{product}}"), data))
    assert source.problems == ["The file has no rows under the names in its first row."]
    assert source.notes == ["200,000 empty rows were skipped (rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, …)."]
    assert peak < 10 * len(data)  # kept as lists of cells, they took 100 times the file


def test_rows_past_the_limit_are_counted_to_the_end_but_not_kept(team, settings):
    settings.BATCH_MAX_ROWS = 500
    data = ("product\n" + "a\n" * 200_000).encode()
    source, peak = peak_memory_of(lambda: tables.read(Template("A {{product}}"), data))
    assert source.total == 200_000 and source.rows == []
    assert source.problems == ["This makes 200,000 prompts; a batch takes at most 500. Use fewer values or rows."]
    assert peak < 10 * len(data)


def test_a_cell_longer_than_any_prompt_says_so(team, settings):
    settings.PROMPT_MAX_LENGTH = 2000
    batch = batch_from(team, csv_text(rows=[ROWS[0], ("vase", "x" * 200_000, "top")]))
    assert batch.problems == [
        "Line 3 of the file starts a cell of more than 131,072 characters, far more than a prompt can be "
        "(at most 2,000). If the cell starts with a quote, check that it ends with one."
    ]
