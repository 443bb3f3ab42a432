"""Each row of a batch is checked as Generate checks a request, with its problems named per column;
optional size, n and reference columns replace the batch's own; the batch says what it would reserve."""

from decimal import Decimal

import pytest
from django.utils import translation

from playground.batches import preview
from playground.batches.rows import Defaults
from playground.batches.sources import Problem
from playground.generations.models import Reference

from .finished import stored_reference
from .images import image_bytes

TEMPLATE = "A {{product}} on a {{surface}}"


def upload(team, text, template=TEMPLATE, **defaults):
    return preview.from_upload(team, template, text.encode(), Defaults(**defaults))


def reference(team, user, name, shade):
    return stored_reference(team, user, name, data=image_bytes((64, 64), colour=(shade, 40, 200)))


@pytest.fixture
def mug_photo(team, owner):
    return reference(team, owner, "mug.png", 10)


def test_rows_without_optional_columns_take_the_batchs_size_n_and_references(team, mug_photo):
    batch = upload(team, "product,surface\nmug,oak\nvase,marble\n", size="2:3", n=4, references=(mug_photo,))
    assert batch.problems == [] and batch.ready
    assert [(row.prompt, row.size, row.n, row.references) for row in batch.rows] == [
        ("A mug on a oak", "2:3", 4, [mug_photo]),
        ("A vase on a marble", "2:3", 4, [mug_photo]),
    ]


def test_a_rows_own_size_n_and_reference_replace_the_batchs(team, owner, mug_photo):
    vase_photo = reference(team, owner, "vase.jpg", 20)
    text = "product,surface,size,n,reference\nmug,oak,1536x1024,2,vase.jpg\nvase,marble,,,\n"
    batch = upload(team, text, size="1:1", n=1, references=(mug_photo,))
    assert batch.ready
    assert [(row.size, row.n, row.references) for row in batch.rows] == [
        ("1536x1024", 2, [vase_photo]),
        ("1:1", 1, [mug_photo]),
    ]


def test_a_reference_is_found_by_the_name_it_was_uploaded_under_the_newest_first(team, owner):
    reference(team, owner, "bottle.png", 30)
    newer = reference(team, owner, "bottle.png", 31)
    batch = upload(team, "product,surface,reference\nmug,oak,bottle.png\n")
    assert batch.rows[0].references == [newer]


def test_a_reference_given_as_a_path_is_found_by_its_file_name(team, mug_photo):
    batch = upload(team, "product,surface,reference\nmug,oak,photos/mug.png\nvase,oak,C:\\shots\\mug.png\n")
    assert [row.references for row in batch.rows] == [[mug_photo], [mug_photo]]


def test_an_unknown_reference_name_is_the_rows_problem(team, mug_photo):
    batch = upload(team, "product,surface,reference\nmug,oak,mug.png\nvase,marble,vase.png\n")
    assert batch.rows[0].ready
    assert batch.rows[1].problems == [
        Problem("reference", "There is no reference image named “vase.png” in this team.")
    ]
    assert not batch.ready and batch.rows_with_problems == [batch.rows[1]]


def test_another_teams_reference_and_a_mask_are_not_found_by_name(team, outsider, other_team, owner):
    reference(other_team, outsider, "rival.png", 40)
    stored_reference(team, owner, "mask.png", kind=Reference.Kind.MASK, data=image_bytes((64, 64), colour=(41, 1, 1)))
    batch = upload(team, "product,surface,reference\nmug,oak,rival.png\nvase,marble,mask.png\n")
    assert [row.problems for row in batch.rows] == [
        [Problem("reference", "There is no reference image named “rival.png” in this team.")],
        [Problem("reference", "There is no reference image named “mask.png” in this team.")],
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("size", "4:3", "Choose one of the listed sizes."),
        ("size", "1024×1024", "Choose one of the listed sizes."),
        ("n", "3", "Choose 1, 2 or 4 images."),
        ("n", "two", "Choose 1, 2 or 4 images."),
    ],
)
def test_a_size_or_n_that_generate_refuses_is_the_rows_problem_with_generates_words(team, column, value, message):
    batch = upload(team, f"product,surface,{column}\nmug,oak,{value}\n")
    assert batch.rows[0].problems == [Problem(column, message)]


def test_a_prompt_over_the_limit_once_filled_is_the_rows_problem(team, settings):
    settings.PROMPT_MAX_LENGTH = 40
    fits, over = "x" * (40 - len("A  on a oak")), "x" * (41 - len("A  on a oak"))
    batch = upload(team, f"product,surface\n{fits},oak\n{over},oak\n")
    assert batch.rows[0].ready and len(batch.rows[0].prompt) == 40
    assert batch.rows[1].problems == [
        Problem("prompt", "The prompt is too long: at most 40 characters (it has 41).")
    ]


def test_the_prompt_is_the_one_generate_would_send(team):
    batch = upload(team, 'product,surface\nmug,"oak\n\n"\n', template="  {{product}} on {{surface}}  ")
    assert batch.rows[0].prompt == "mug on oak"


def test_a_missing_value_is_named_and_the_rows_other_problems_are_said_too(team):
    batch = upload(team, "product,surface,size\nmug,,5:4\nvase\n")
    assert [row.problems for row in batch.rows] == [
        [Problem("surface", "No value for {{surface}}."), Problem("size", "Choose one of the listed sizes.")],
        [Problem("surface", "No value for {{surface}}.")],
    ]
    assert [row.prompt for row in batch.rows] == ["", ""]


def test_a_row_with_more_cells_than_names_is_a_problem(team):
    batch = upload(team, "product,surface\nmug,oak,extra\nvase,marble,,\n")
    assert batch.rows[0].problems == [Problem("", "This row has 3 cells, but the first row names 2 columns.")]
    assert batch.rows[1].ready


def test_a_formula_in_a_cell_is_kept_as_plain_text_and_said_so(team):
    batch = upload(team, 'product,surface\n"=HYPERLINK(""http://evil.example"",""mug"")",@oak\n')
    row = batch.rows[0]
    assert row.ready
    assert row.prompt == 'A =HYPERLINK("http://evil.example","mug") on a @oak'
    assert row.notes == [
        "“product” starts with “=”: it is used as text, never run as a formula.",
        "“surface” starts with “@”: it is used as text, never run as a formula.",
    ]


def test_a_default_reference_deleted_meanwhile_is_each_rows_problem(team, mug_photo):
    defaults = (mug_photo,)
    Reference.objects.filter(pk=mug_photo.pk).delete()
    batch = upload(team, "product,surface\nmug,oak\n", references=defaults)
    assert batch.rows[0].problems == [
        Problem("reference", "A chosen reference image is no longer available: remove it and choose again.")
    ]


# -- the whole batch -----------------------------------------------------------------


def test_value_lists_give_every_combination_checked(team):
    batch = preview.from_values(team, TEMPLATE, {"product": "mug\nvase", "surface": "oak\nmarble\nslate"}, Defaults(n=2))
    assert batch.ready and batch.total == 6
    assert [row.prompt for row in batch.rows] == [
        "A mug on a oak",
        "A mug on a marble",
        "A mug on a slate",
        "A vase on a oak",
        "A vase on a marble",
        "A vase on a slate",
    ]
    assert {(row.size, row.n) for row in batch.rows} == {("1:1", 2)}


def test_the_credits_are_the_ready_rows_times_their_n_at_the_price_per_image(team, settings):
    settings.CREDITS_PER_IMAGE = 1.5
    text = "product,surface,n\nmug,oak,\nvase,marble,4\nbowl,slate,1\ncup,,2\n"
    batch = upload(team, text, n=2)
    assert [row.ready for row in batch.rows] == [True, True, True, False]
    assert batch.images == 2 + 4 + 1
    assert batch.credits == Decimal("10.5")
    settings.CREDITS_PER_IMAGE = 2
    assert batch.credits == Decimal("14")


def test_a_refused_batch_has_no_rows_and_reserves_nothing(team):
    batch = upload(team, "product\nmug\n")
    assert batch.rows == [] and not batch.ready
    assert batch.credits == 0


def test_the_rows_problems_are_in_the_viewers_language(team):
    text = "product,surface,n,reference\nmug,,3,nowhere.png\n"
    with translation.override("ko"):
        korean = upload(team, text).rows[0].problems
    with translation.override("zh-hans"):
        chinese = upload(team, text).rows[0].problems
    assert [str(problem) for problem in korean] == [
        "{{surface}}의 값이 없습니다.",
        "이 팀에는 “nowhere.png”(이)라는 이름의 참조 이미지가 없습니다.",
        translated("ko", "Choose 1, 2 or 4 images."),
    ]
    assert [str(problem) for problem in chinese] == [
        "{{surface}} 没有值。",
        "本团队中没有名为“nowhere.png”的参考图片。",
        translated("zh-hans", "Choose 1, 2 or 4 images."),
    ]
    assert translated("ko", "Choose 1, 2 or 4 images.") != "Choose 1, 2 or 4 images."


def translated(language, message):
    with translation.override(language):
        return translation.gettext(message)
