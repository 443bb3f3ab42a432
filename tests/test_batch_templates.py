"""A batch's template: its variables, filling it from a row, and the rows of value lists."""

import pytest

from playground.batches import formulas, values
from playground.batches.templates import MissingValue, Template

PRODUCT_SHOT = "A {{product}} on a {{surface}}, soft studio light, {{angle}} view"


def test_the_variables_are_listed_in_order_each_once():
    template = Template("{{product}} and {{ surface }} and {{product}} again, {{ angle_2 }}")
    assert template.variables == ["product", "surface", "angle_2"]
    assert template.problems() == []


def test_variables_may_be_named_in_any_script():
    assert Template("{{제품}} on {{表面}}").variables == ["제품", "表面"]


def test_a_filled_template_puts_each_value_in_place():
    prompt = Template(PRODUCT_SHOT).fill({"product": "red mug", "surface": "oak table", "angle": "top"})
    assert prompt == "A red mug on a oak table, soft studio light, top view"


def test_a_value_is_used_as_it_is_braces_and_all():
    prompt = Template("{{a}} then {{b}}").fill({"a": "{{b}}", "b": "B"})
    assert prompt == "{{b}} then B"


@pytest.mark.parametrize("row", [{"product": "mug"}, {"product": "mug", "surface": ""}, {"product": "mug", "surface": "  "}])
def test_a_missing_or_blank_value_is_an_error_never_a_blank(row):
    with pytest.raises(MissingValue) as missing:
        Template("A {{product}} on a {{surface}}").fill(row)
    assert missing.value.name == "surface"
    assert missing.value.message == "No value for {{surface}}."


def test_a_template_without_variables_says_how_to_write_them():
    assert Template("A red mug on a table").problems() == [
        "The template has no variables: write each one in double braces, such as {{product}}."
    ]


@pytest.mark.parametrize("braced", ["{{product name}}", "{{}}", "{{colour-name}}"])
def test_braces_around_something_that_is_no_name_are_pointed_out(braced):
    problems = Template(f"A {braced} on a {{{{surface}}}}").problems()
    assert problems == [
        f"{braced} is not a variable: a name is letters, digits and underscores, such as {{{{product}}}}."
    ]


def test_the_optional_column_names_cannot_be_variables():
    assert Template("A {{product}} at {{size}}").problems() == [
        "{{size}} cannot be a variable: size, n and reference are the names of optional columns."
    ]


def many_variables(count):
    return " ".join(f"{{{{v{number}}}}}" for number in range(count))


def test_twenty_variables_are_allowed_twenty_one_are_too_many():
    assert Template(many_variables(20)).problems() == []
    assert Template(many_variables(21)).problems() == ["The template has 21 variables; a template takes at most 20."]


def test_a_template_over_ten_thousand_characters_is_refused_with_its_length_alone():
    template = Template("A {{product}} " + "x" * 10_000 + " {{size}} {{bad name}}")
    assert template.problems() == ["The template is 10,036 characters long; a template takes at most 10,000."]
    assert len(Template("{{a}}" + "x" * 9_995).text) == 10_000 and Template("{{a}}" + "x" * 9_995).problems() == []


# -- value lists ----------------------------------------------------------------------


def test_value_lists_make_every_combination_the_first_variable_slowest():
    template = Template("A {{product}} on a {{surface}}")
    source = values.combinations(template, {"product": "mug\nvase\n", "surface": "oak\r\n\r\n  marble  \n"})
    assert source.problems == []
    assert source.total == 4
    assert [(row.number, row.values) for row in source.rows] == [
        (1, {"product": "mug", "surface": "oak"}),
        (2, {"product": "mug", "surface": "marble"}),
        (3, {"product": "vase", "surface": "oak"}),
        (4, {"product": "vase", "surface": "marble"}),
    ]


def test_a_value_given_twice_makes_its_prompts_once():
    source = values.combinations(Template("A {{product}}"), {"product": "mug\nvase\nmug"})
    assert [row.values["product"] for row in source.rows] == ["mug", "vase"]


def test_a_variable_without_values_is_named():
    source = values.combinations(Template("A {{product}} on a {{surface}}"), {"product": "mug", "surface": "\n \n"})
    assert source.rows == []
    assert source.problems == ["Give at least one value for {{surface}}, one per line."]


def test_values_for_a_name_the_template_does_not_use_are_refused():
    source = values.combinations(Template("A {{product}}"), {"product": "mug", "colour": "red"})
    assert source.problems == ["Values were given for {{colour}}, which is not in the template."]


def test_too_many_combinations_are_refused_with_their_count_without_being_built(settings):
    settings.BATCH_MAX_ROWS = 500
    names = [f"v{number}" for number in range(10)]
    template = Template(" ".join(f"{{{{{name}}}}}" for name in names))
    hundred = "\n".join(str(value) for value in range(100))
    # 100 ** 10 rows: building them would never end, so this returns only if they are counted.
    source = values.combinations(template, dict.fromkeys(names, hundred))
    assert source.rows == []
    assert source.total == 100**10
    assert source.problems == [
        "This makes 100,000,000,000,000,000,000 prompts; a batch takes at most 500. Use fewer values or rows."
    ]


def test_the_count_is_known_without_building_anything():
    template = Template("A {{product}} on a {{surface}}")
    assert values.count(template, {"product": "mug\nvase\nmug", "surface": "oak\nmarble\nslate\n\n"}) == 6
    assert values.count(template, {"product": "mug"}) == 0


def test_the_limit_itself_is_allowed(settings):
    settings.BATCH_MAX_ROWS = 6
    source = values.combinations(Template("{{a}} {{b}}"), {"a": "1\n2\n3", "b": "x\ny"})
    assert source.problems == []
    assert len(source.rows) == 6


# -- formula-like text ----------------------------------------------------------------


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\t=1"])
def test_formula_like_text_is_guarded_with_an_apostrophe(text):
    assert formulas.looks_like_formula(text)
    assert formulas.guarded(text) == "'" + text


@pytest.mark.parametrize("text", ["red mug", "a = b", "", "'=quoted already"])
def test_other_text_is_exported_as_it_is(text):
    assert formulas.guarded(text) == text
